//! The import cut into chunks: consecutive lots in file order, each chunk
//! about `chunk_vials` vials, never splitting a lot. Each chunk is one
//! write transaction; the chunks are the same every time the same file is
//! read with the same size, so an interrupted import resumes after the
//! last chunk it committed.

use super::checks::Bank;

/// One chunk: the lots (indices into `bank.lots`) and the file rows they
/// cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub lots: Vec<usize>,
    pub vials: usize,
}

/// The bank's lots in chunks of at least one lot and, unless one lot is
/// bigger, at most `chunk_vials` vials.
pub fn chunks(bank: &Bank, chunk_vials: usize) -> Vec<Chunk> {
    let chunk_vials = chunk_vials.max(1);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current = Chunk {
        lots: Vec::new(),
        vials: 0,
    };
    for (i, lot) in bank.lots.iter().enumerate() {
        if !current.lots.is_empty() && current.vials + lot.vials.len() > chunk_vials {
            chunks.push(std::mem::replace(
                &mut current,
                Chunk {
                    lots: Vec::new(),
                    vials: 0,
                },
            ));
        }
        current.lots.push(i);
        current.vials += lot.vials.len();
    }
    if !current.lots.is_empty() {
        chunks.push(current);
    }
    chunks
}
