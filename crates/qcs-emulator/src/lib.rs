//! The Qualys CS API emulator (work in progress).
