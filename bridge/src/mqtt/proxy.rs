//! A small TCP proxy between a gateway and its broker that makes network
//! faults real: outages cut every connection and refuse new ones, latency
//! delays every chunk, loss resets connections at random, a partition stalls
//! traffic without closing anything (only keep-alive notices).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The condition of the link.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LinkState {
    /// Bytes flow.
    #[default]
    Up,
    /// Every connection is cut and new ones are refused.
    Down,
    /// Bytes flow after this delay, each way.
    Latency(Duration),
    /// Each chunk resets its connection with this probability (0 … 1).
    Loss(f64),
    /// Connections stay open but nothing flows.
    Partition,
}

/// A running proxy.
pub struct FaultProxy {
    addr: SocketAddr,
    state: watch::Sender<LinkState>,
    /// Outages begun so far: a connection older than the latest outage is cut
    /// even if the link came back before its task looked (a watch only shows
    /// the newest state, and compressed-time outages can last microseconds).
    outages: Arc<AtomicU64>,
    stats: Arc<Mutex<ProxyStats>>,
    task: tokio::task::JoinHandle<()>,
}

/// What the proxy did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted and forwarded.
    pub connections: u64,
    /// Connections refused while down.
    pub refused: u64,
    /// Connections cut by an outage or a loss event.
    pub cut: u64,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (state, rx) = watch::channel(LinkState::Up);
        let stats = Arc::new(Mutex::new(ProxyStats::default()));
        let outages = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(
            listener,
            upstream,
            rx,
            outages.clone(),
            stats.clone(),
        ));
        Ok(FaultProxy {
            addr,
            state,
            outages,
            stats,
            task,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the link's condition (takes effect on open connections at once).
    pub fn set(&self, state: LinkState) {
        if state == LinkState::Down && *self.state.borrow() != LinkState::Down {
            self.outages.fetch_add(1, Ordering::SeqCst);
        }
        let _ = self.state.send(state);
    }

    /// Counters so far.
    pub fn stats(&self) -> ProxyStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    state: watch::Receiver<LinkState>,
    outages: Arc<AtomicU64>,
    stats: Arc<Mutex<ProxyStats>>,
) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if *state.borrow() == LinkState::Down {
            if let Ok(mut s) = stats.lock() {
                s.refused += 1;
            }
            drop(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream).await else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        if let Ok(mut s) = stats.lock() {
            s.connections += 1;
        }
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let cut = Cut {
            outages: outages.clone(),
            born: outages.load(Ordering::SeqCst),
        };
        tokio::spawn(pipe(
            client,
            server,
            state.clone(),
            cut,
            stats.clone(),
            seed,
        ));
    }
}

/// Whether an outage began since a connection was made.
#[derive(Clone)]
struct Cut {
    outages: Arc<AtomicU64>,
    born: u64,
}

impl Cut {
    fn due(&self) -> bool {
        self.outages.load(Ordering::SeqCst) != self.born
    }
}

/// Forwards both ways, one task per direction (so a full socket one way never
/// stalls the other), until either side closes or the link state cuts it.
async fn pipe(
    client: TcpStream,
    server: TcpStream,
    state: watch::Receiver<LinkState>,
    cut: Cut,
    stats: Arc<Mutex<ProxyStats>>,
    seed: u64,
) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let mut up = tokio::spawn(one_way(cr, sw, state.clone(), cut.clone(), seed));
    let mut down = tokio::spawn(one_way(sr, cw, state, cut, seed.rotate_left(17) | 1));
    // When one direction ends, the connection is over: end the other too.
    let first = tokio::select! {
        r = &mut up => r,
        r = &mut down => r,
    };
    up.abort();
    down.abort();
    if first.unwrap_or(false)
        && let Ok(mut s) = stats.lock()
    {
        s.cut += 1;
    }
}

/// Copies one direction; returns whether the link state cut it.
async fn one_way(
    mut r: tokio::net::tcp::OwnedReadHalf,
    mut w: tokio::net::tcp::OwnedWriteHalf,
    mut state: watch::Receiver<LinkState>,
    cut: Cut,
    seed: u64,
) -> bool {
    let mut rng = seed;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if cut.due() {
            return true;
        }
        let current = *state.borrow();
        match current {
            LinkState::Down => return true,
            LinkState::Partition => {
                // Hold everything until the state changes.
                if state.changed().await.is_err() {
                    return false;
                }
                continue;
            }
            _ => {}
        }
        tokio::select! {
            changed = state.changed() => if changed.is_err() { return false },
            n = r.read(&mut buf) => {
                let Ok(n) = n else { return false };
                if n == 0 {
                    return false;
                }
                if !forward(&mut w, &buf[..n], current, &mut rng).await {
                    return true;
                }
            }
        }
    }
}

async fn forward(
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    bytes: &[u8],
    state: LinkState,
    rng: &mut u64,
) -> bool {
    match state {
        LinkState::Latency(d) => tokio::time::sleep(d).await,
        LinkState::Loss(p) => {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            if (*rng >> 11) as f64 / (1u64 << 53) as f64 <= p {
                return false;
            }
        }
        _ => {}
    }
    w.write_all(bytes).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut b = [0u8; 1024];
                    while let Ok(n) = s.read(&mut b).await {
                        if n == 0 || s.write_all(&b[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"ping").await?;
        let mut b = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut b))
            .await
            .map_err(|_| std::io::Error::other("timeout"))??;
        Ok(b.to_vec())
    }

    #[tokio::test]
    async fn forwards_cuts_and_recovers() {
        let proxy = FaultProxy::start(echo_server().await).await.unwrap();
        assert_eq!(round_trip(proxy.addr()).await.unwrap(), b"ping");
        // An open connection is cut by an outage, and new ones are refused.
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        open.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        open.read_exact(&mut one).await.unwrap();
        proxy.set(LinkState::Down);
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(2), open.read_to_end(&mut rest))
            .await
            .expect("cut promptly");
        assert!(n.is_err() || rest.is_empty());
        assert!(round_trip(proxy.addr()).await.is_err());
        proxy.set(LinkState::Up);
        assert_eq!(round_trip(proxy.addr()).await.unwrap(), b"ping");
        let st = proxy.stats();
        assert!(st.refused >= 1 && st.cut >= 1, "{st:?}");
    }

    #[tokio::test]
    async fn latency_delays_and_partition_stalls() {
        let proxy = FaultProxy::start(echo_server().await).await.unwrap();
        proxy.set(LinkState::Latency(Duration::from_millis(150)));
        let t = std::time::Instant::now();
        round_trip(proxy.addr()).await.unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "two delayed hops"
        );
        proxy.set(LinkState::Partition);
        assert!(
            round_trip(proxy.addr()).await.is_err(),
            "nothing flows in a partition"
        );
        proxy.set(LinkState::Loss(1.0));
        assert!(
            round_trip(proxy.addr()).await.is_err(),
            "certain loss resets"
        );
    }
}
