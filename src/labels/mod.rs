//! Label rendering (QR codes; PNG, SVG, ZPL and PDF sheets). Arrives with
//! the labels issue; nothing belongs here yet.
