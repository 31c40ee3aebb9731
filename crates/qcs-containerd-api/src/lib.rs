//! containerd's gRPC API, as far as qcs uses it: the containers, content, images, tasks and
//! version services and the types they carry.
//!
//! The Rust code in `src/generated/` is generated from the `.proto` files in `proto/` (copied
//! unchanged from containerd's `api/` directory) by `scripts/gen-containerd-api.sh` and kept in
//! the repository, so that building qcs needs no `protoc`; `scripts/test.sh` checks that it still
//! matches the protos. The module layout follows the `containerd-client` crate's.

// Generated code: its names, documentation and shapes are containerd's, not ours.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    rustdoc::invalid_html_tags,
    rustdoc::broken_intra_doc_links,
    rustdoc::bare_urls
)]

pub use prost;
pub use prost_types;
pub use tonic;

/// `containerd.types` (descriptor, mount, metrics) and `containerd.v1.types` (task status).
pub mod types {
    include!("generated/containerd.types.rs");

    /// `containerd.v1.types`: the task's process state.
    pub mod v1 {
        include!("generated/containerd.v1.types.rs");
    }
}

/// containerd's services, each with its client (`<service>_client::<Service>Client`).
pub mod services {
    /// Version 1 of the containers, content, images, tasks and version services.
    pub mod v1 {
        include!("generated/containerd.services.containers.v1.rs");
        include!("generated/containerd.services.content.v1.rs");
        include!("generated/containerd.services.images.v1.rs");
        include!("generated/containerd.services.tasks.v1.rs");
        include!("generated/containerd.services.version.v1.rs");
    }
}
