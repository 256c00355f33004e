// futex_mutex.rs — 4 threads hammering one std::sync::Mutex (futex words):
// a futex-heavy program for tools/bench/futex-overhead. Args: ITERATIONS per thread.
use std::sync::Mutex;
use std::thread;

static COUNTER: Mutex<u64> = Mutex::new(0);

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..n {
                    let mut g = COUNTER.lock().unwrap();
                    *g += 1;
                    // A little work inside and outside; the yield inside makes the lock contended.
                    for _ in 0..200 { std::hint::black_box(*g); }
                    thread::yield_now(); // let the others run into the held lock: they futex-wait
                    drop(g);
                    for _ in 0..200 { std::hint::black_box(n); }
                }
            })
        })
        .collect();
    for w in workers { w.join().unwrap(); }
    println!("{}", *COUNTER.lock().unwrap());
}
