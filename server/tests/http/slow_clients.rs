//! The real server over real TCP: a client that sends its headers a byte a second is cut off,
//! while everyone else keeps being answered; bodies past the limit are refused whole.

use server::WebConfig;
use server::serve::{ServeLimits, serve};
use std::net::SocketAddr;
use std::time::Duration;
use store::testing::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(config: WebConfig, limits: ServeLimits) -> (SocketAddr, TestDb, tokio::sync::oneshot::Sender<()>) {
    let t = TestDb::sqlite().await;
    let app = server::router(t.db.clone(), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));
    (addr, t, stop)
}

/// The status line's code of a whole request sent at once.
async fn status_of(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_headers_a_byte_a_second_is_cut_off_while_others_are_answered() {
    let limits = ServeLimits { header_read: Duration::from_secs(2), ..ServeLimits::default() };
    let (addr, t, stop) = start(WebConfig::default(), limits).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let header = b"GET /healthz HTTP/1.1\r\nHost: mcms.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut sent = 0;
    let mut answered = 0;
    let mut closed = false;
    for byte in header {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        sent += 1;
        // Meanwhile somebody else asks and is answered.
        assert_eq!(
            status_of(addr, b"GET /healthz HTTP/1.1\r\nHost: mcms.test\r\nConnection: close\r\n\r\n").await,
            200
        );
        answered += 1;
        // Has the server hung up on the slow client?
        let mut buf = [0_u8; 512];
        match tokio::time::timeout(Duration::from_secs(1), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                closed = true; // a 408 before hanging up counts as cut off too
                break;
            }
            Err(_) => {} // still open: send the next byte
        }
    }
    assert!(closed, "the slow client was still connected after sending {sent} of {} bytes", header.len());
    assert!(sent < header.len() / 2, "cut off after {sent} bytes");
    assert!(answered >= 1, "others were answered meanwhile");
    let _ = stop.send(());
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_limit_are_refused_on_every_route() {
    let mut config = WebConfig::default();
    config.import_limits.max_bytes = 64 * 1024;
    let (addr, t, stop) = start(config, ServeLimits::default()).await;
    // A server function (pasted cells) and the partner API, each told a body of 3 MB is coming.
    for (path, extra) in [("/api/login", ""), ("/api/v1/me", "Authorization: Bearer x\r\n")] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: mcms.test\r\nOrigin: http://mcms.test\r\n{extra}Content-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: 3145728\r\nConnection: close\r\n\r\nemail="
        );
        assert_eq!(status_of(addr, request.as_bytes()).await, 413, "{path}");
    }
    let _ = stop.send(());
    t.finish().await;
}
