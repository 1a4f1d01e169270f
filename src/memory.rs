//! What the process keeps of the memory it used.
//!
//! Every password check runs argon2id over a 19 MiB block, on whichever
//! blocking thread is free. glibc's allocator raises its mmap threshold to
//! the largest block freed so far, so after the first check each 19 MiB
//! block comes from that thread's heap arena and stays there when freed:
//! a server that signed a few people in held 200 MB it no longer used. A
//! fixed threshold turns off that adjustment, so every block of 128 KiB or
//! more is its own mapping, returned to the system when freed; and a load
//! of the demo trial ends by handing back whatever the heaps keep free.
//! Other allocators and platforms are left as they are.

/// Blocks at least this large are mapped on their own and unmapped when
/// freed (glibc's initial default, here fixed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Large blocks go back to the system when freed. Called once at start.
pub fn give_large_blocks_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; any value is valid
    // for M_MMAP_THRESHOLD up to HEAP_MAX (32 MiB on 64-bit).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Every [`TRIM_EVERY`], returns what the heaps keep free (a serving
/// instance; the walk over the heaps takes a few milliseconds, on a
/// blocking thread).
pub async fn release_periodically() {
    let mut every = tokio::time::interval(TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let _ = tokio::task::spawn_blocking(release_free_memory).await;
    }
}

/// How often a serving instance hands free memory back: more often than
/// an idle database connection is closed (`db`), so what it held goes back
/// within two minutes of the burst that used it.
pub const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(45);

/// Hands free memory back once, `after` from now (on a blocking thread):
/// after a burst whose connections are being closed, what their threads
/// free comes a moment after the burst itself ends.
pub fn release_after(after: std::time::Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let _ = tokio::task::spawn_blocking(release_free_memory).await;
    });
}

/// Returns the free memory the heaps keep to the system (after a burst of
/// work such as loading the demo).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}
