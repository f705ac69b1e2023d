// Tokio twin of bench/bm_sync.cpp: the same cases, batch sizes, task counts
// and capacities on tokio::sync::Mutex and tokio::sync::mpsc, so that
// bench/sync_vs_tokio.sh can put each case next to corio's. A change to a
// case's shape there must be made here too.
//
//   tokio_sync [--reps R]
//
// stdout: one TSV line per case, `tokio  case  workers  ns_per_op  value`,
// the median of R (default 5) reps after a warm-up; per-rep figures go to
// stderr. Exits 1 when a batch's answer is wrong.

use std::future::Future;
use std::process::exit;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, Mutex};

/// Operations per batch of the uncontended cases (bm_common.hpp's ops_per_batch).
const OPS_PER_BATCH: i64 = 1_000;
/// Operations per batch of the contended cases: spawning and joining the
/// batch's tasks stays under 1% of its time.
const CONTENDED_OPS: i64 = 10_000;
/// worker_threads of the contended cases: the development machine's cores.
const CONTENDED_WORKERS: usize = 2;
/// The uncontended queue cases hold one item at a time in a channel this big.
const UNCONTENDED_CAPACITY: usize = 1024;
/// The producer runs ahead until this many items wait.
const SPSC_CAPACITY: usize = 1024;
/// The warm-up's length; it also counts how many batches fill it, and every
/// timed rep runs that many (Google Benchmark sizes its runs the same way).
const WARM_UP: Duration = Duration::from_millis(300);

fn sum_below(n: i64) -> i64 {
    n * (n - 1) / 2
}

/// One benchmark case: `batch` runs `ops` operations and returns what they
/// add up to, which must be `expected`.
struct Case {
    name: &'static str,
    workers: usize,
    ops: i64,
    expected: i64,
    batch: Box<dyn FnMut() -> i64>,
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("current_thread runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(CONTENDED_WORKERS)
        .build()
        .expect("multi_thread runtime")
}

/// Runs `batch` as a spawned task, so that it lives on a worker as corio's
/// main task does under run_until_complete (block_on's own future would run
/// on this thread, outside the workers).
fn on_worker<F: Future<Output = i64> + Send + 'static>(rt: &Runtime, batch: F) -> i64 {
    rt.block_on(rt.spawn(batch)).expect("batch task panicked")
}

// ---------------------------------------------------------------- Mutex

async fn increment(counter: &Mutex<i64>, times: i64) {
    for _ in 0..times {
        *counter.lock().await += 1; // the guard drops at the end of the statement
    }
}

async fn lock_uncontended_batch() -> i64 {
    let counter = Mutex::new(0);
    increment(&counter, OPS_PER_BATCH).await;
    counter.into_inner()
}

/// `tasks` tasks share CONTENDED_OPS acquisitions; tokio's Mutex is fair
/// (FIFO), like corio::lock, so most acquisitions wait and are handed over.
async fn lock_contended_batch(tasks: i64) -> i64 {
    let counter = Arc::new(Mutex::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move { increment(&counter, CONTENDED_OPS / tasks).await })
        })
        .collect();
    for h in handles {
        h.await.expect("increment task panicked");
    }
    let total = *counter.lock().await;
    total
}

// ---------------------------------------------------------------- mpsc

async fn put_get_nowait_batch(tx: &mpsc::Sender<i64>, rx: &mut mpsc::Receiver<i64>) -> i64 {
    let mut sum = 0;
    for i in 0..OPS_PER_BATCH {
        tx.try_send(i).expect("try_send");
        sum += rx.try_recv().expect("try_recv");
    }
    sum
}

async fn put_get_await_batch(tx: &mpsc::Sender<i64>, rx: &mut mpsc::Receiver<i64>) -> i64 {
    let mut sum = 0;
    for i in 0..OPS_PER_BATCH {
        tx.send(i).await.expect("send");
        sum += rx.recv().await.expect("recv");
    }
    sum
}

/// The batch's own task is the pinger; the token comes back incremented once
/// per round trip through two channel(1)s.
async fn ping_pong_batch() -> i64 {
    let (to_pong, mut pong_rx) = mpsc::channel::<i64>(1);
    let (to_ping, mut ping_rx) = mpsc::channel::<i64>(1);
    let ponger = tokio::spawn(async move {
        for _ in 0..CONTENDED_OPS {
            let v = pong_rx.recv().await.expect("pong recv");
            to_ping.send(v + 1).await.expect("pong send");
        }
    });
    let mut token = 0;
    for _ in 0..CONTENDED_OPS {
        to_pong.send(token).await.expect("ping send");
        token = ping_rx.recv().await.expect("ping recv");
    }
    ponger.await.expect("ponger panicked");
    token
}

/// The batch's own task is the consumer.
async fn spsc_batch() -> i64 {
    let (tx, mut rx) = mpsc::channel::<i64>(SPSC_CAPACITY);
    let producer = tokio::spawn(async move {
        for i in 0..CONTENDED_OPS {
            tx.send(i).await.expect("send");
        }
    });
    let mut sum = 0;
    for _ in 0..CONTENDED_OPS {
        sum += rx.recv().await.expect("recv");
    }
    producer.await.expect("producer panicked");
    sum
}

// ---------------------------------------------------------------- harness

type PutGetBatch = fn(&Runtime, &mpsc::Sender<i64>, &mut mpsc::Receiver<i64>) -> i64;

/// One channel for the whole case, as corio's queue is: a batch finds it empty.
fn put_get_case(name: &'static str, batch: PutGetBatch) -> Case {
    let rt = current_thread();
    let (tx, mut rx) = mpsc::channel(UNCONTENDED_CAPACITY);
    Case {
        name,
        workers: 1,
        ops: OPS_PER_BATCH,
        expected: sum_below(OPS_PER_BATCH),
        batch: Box::new(move || batch(&rt, &tx, &mut rx)),
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();

    let rt = current_thread();
    cases.push(Case {
        name: "lock_uncontended",
        workers: 1,
        ops: OPS_PER_BATCH,
        expected: OPS_PER_BATCH,
        batch: Box::new(move || rt.block_on(lock_uncontended_batch())),
    });
    for (name, tasks) in [
        ("lock_contended_handoff/tasks:2", 2),
        ("lock_contended_handoff/tasks:8", 8),
    ] {
        let rt = multi_thread();
        cases.push(Case {
            name,
            workers: CONTENDED_WORKERS,
            ops: CONTENDED_OPS,
            expected: CONTENDED_OPS,
            batch: Box::new(move || on_worker(&rt, lock_contended_batch(tasks))),
        });
    }

    cases.push(put_get_case(
        "queue_put_get_uncontended_nowait",
        |rt, tx, rx| rt.block_on(put_get_nowait_batch(tx, rx)),
    ));
    cases.push(put_get_case(
        "queue_put_get_uncontended_await",
        |rt, tx, rx| rt.block_on(put_get_await_batch(tx, rx)),
    ));

    let rt = multi_thread();
    cases.push(Case {
        name: "queue_ping_pong",
        workers: CONTENDED_WORKERS,
        ops: CONTENDED_OPS,
        expected: CONTENDED_OPS,
        batch: Box::new(move || on_worker(&rt, ping_pong_batch())),
    });
    let rt = multi_thread();
    cases.push(Case {
        name: "queue_spsc_throughput",
        workers: CONTENDED_WORKERS,
        ops: CONTENDED_OPS,
        expected: sum_below(CONTENDED_OPS),
        batch: Box::new(move || on_worker(&rt, spsc_batch())),
    });
    cases
}

fn run_checked(case: &mut Case) {
    let got = (case.batch)();
    if got != case.expected {
        eprintln!(
            "tokio_sync: {}: got {got}, expected {}",
            case.name, case.expected
        );
        exit(1);
    }
}

/// Median ns per operation over `reps` timed reps.
fn measure(case: &mut Case, reps: usize) -> f64 {
    let start = Instant::now();
    let mut batches: u64 = 0;
    while start.elapsed() < WARM_UP {
        run_checked(case);
        batches += 1;
    }
    let mut per_op: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batches {
                run_checked(case);
            }
            t.elapsed().as_nanos() as f64 / (batches as f64 * case.ops as f64)
        })
        .collect();
    eprintln!(
        "tokio_sync: {} ({} batches/rep): {:.1?} ns/op",
        case.name, batches, per_op
    );
    per_op.sort_by(|a, b| a.partial_cmp(b).expect("a time is not NaN"));
    per_op[per_op.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = match args.as_slice() {
        [_] => 5,
        [_, flag, r] if flag == "--reps" => {
            r.parse().ok().filter(|&r| r > 0).unwrap_or_else(|| {
                eprintln!("tokio_sync: --reps wants a positive integer, not '{r}'");
                exit(2)
            })
        }
        _ => {
            eprintln!("usage: tokio_sync [--reps R]");
            exit(2)
        }
    };
    for mut case in cases() {
        let ns = measure(&mut case, reps);
        println!(
            "tokio\t{}\t{}\t{:.1}\t{}",
            case.name, case.workers, ns, case.expected
        );
    }
}
