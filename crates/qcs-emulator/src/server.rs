//! Accept loops for the TCP (optionally TLS) and unix-socket listeners (the latter on unix
//! only; elsewhere the Docker stand-in is served over TCP by [`serve_tcp`]).
//!
//! Each connection is served by hyper's HTTP/1 server with a per-connection kill switch
//! ([`ConnKill`]) in the request extensions, which the `drop` fault uses to close the
//! connection without answering.

use crate::api::ConnKill;
use axum::Router;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

async fn serve_conn<IO>(io: IO, app: Router)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = ConnKill(Arc::new(Notify::new()));
    let k = kill.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(k.clone());
        let app = app.clone();
        async move { app.oneshot(req.map(axum::body::Body::new)).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        () = kill.0.notified() => {}
    }
}

/// Serves `app` on `listener` (TLS when `tls` is given) until `shutdown` turns true.
pub(crate) async fn serve_tcp(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                match tls.clone() {
                    None => { conns.spawn(serve_conn(stream, app)); }
                    Some(acceptor) => {
                        conns.spawn(async move {
                            let hs = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream)).await;
                            if let Ok(Ok(tls_stream)) = hs {
                                serve_conn(tls_stream, app).await;
                            }
                        });
                    }
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    conns.abort_all();
}

/// Serves `app` on a unix socket until `shutdown` turns true.
#[cfg(unix)]
pub(crate) async fn serve_unix(
    listener: UnixListener,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                conns.spawn(serve_conn(stream, app.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    conns.abort_all();
}
