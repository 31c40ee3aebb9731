//! What the tests of the qcs crates share instead of each keeping a copy: the real parts they
//! start on loopback for one test. A dev-dependency only; nothing here ships.

pub mod tinyproxy;
