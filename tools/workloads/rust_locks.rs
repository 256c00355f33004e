// rust_locks.rs — Rust std's futex-based locks under contention, with the
// program's own truth printed for the FutexTests:
//   mutex contended=N wait_ns=T   (lock() calls after a failed try_lock, and their time)
//   rwlock contended=N wait_ns=T  (read()/write() after a failed try_read/try_write)
//   condvar notifies=N waits=W wait_ns=T
// Built with plain rustc (no cargo): rustc -O rust_locks.rs.
use std::sync::{Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

static COUNTER: Mutex<u64> = Mutex::new(0);
static TABLE: RwLock<u64> = RwLock::new(0);
static READY: Mutex<u64> = Mutex::new(0);
static SIGNAL: Condvar = Condvar::new();

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn arg(i: usize, default: u64) -> u64 {
    std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    let rounds = arg(1, 40);
    let hold_us = arg(2, 1000);
    let threads = arg(3, 4);

    // Mutex: `threads` threads, each `rounds` holds of hold_us.
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(move || {
                let (mut contended, mut waited) = (0u64, 0u128);
                for _ in 0..rounds {
                    let mut guard = match COUNTER.try_lock() {
                        Ok(g) => g,
                        Err(_) => {
                            contended += 1;
                            let t = Instant::now();
                            let g = COUNTER.lock().unwrap();
                            waited += t.elapsed().as_nanos();
                            g
                        }
                    };
                    *guard += 1;
                    spin(Duration::from_micros(hold_us));
                    drop(guard);
                    spin(Duration::from_micros(hold_us / 5));
                }
                (contended, waited)
            })
        })
        .collect();
    let (mut contended, mut waited) = (0u64, 0u128);
    for w in workers {
        let (c, t) = w.join().unwrap();
        contended += c;
        waited += t;
    }
    println!("mutex contended={} wait_ns={} total={}", contended, waited, *COUNTER.lock().unwrap());

    // RwLock: three readers and one writer.
    let workers: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                let (mut contended, mut waited) = (0u64, 0u128);
                for _ in 0..rounds / 2 {
                    if i == 0 {
                        let mut g = match TABLE.try_write() {
                            Ok(g) => g,
                            Err(_) => {
                                contended += 1;
                                let t = Instant::now();
                                let g = TABLE.write().unwrap();
                                waited += t.elapsed().as_nanos();
                                g
                            }
                        };
                        *g += 1;
                        spin(Duration::from_micros(hold_us * 2));
                    } else {
                        let g = match TABLE.try_read() {
                            Ok(g) => g,
                            Err(_) => {
                                contended += 1;
                                let t = Instant::now();
                                let g = TABLE.read().unwrap();
                                waited += t.elapsed().as_nanos();
                                g
                            }
                        };
                        let _ = *g;
                        spin(Duration::from_micros(hold_us * 2));
                    }
                    spin(Duration::from_micros(hold_us / 2));
                }
                (contended, waited)
            })
        })
        .collect();
    let (mut contended, mut waited) = (0u64, 0u128);
    for w in workers {
        let (c, t) = w.join().unwrap();
        contended += c;
        waited += t;
    }
    println!("rwlock contended={} wait_ns={}", contended, waited);

    // Condvar: main notifies `rounds / 2` times, 5 ms apart; one consumer waits.
    let notifies = rounds / 2;
    let consumer = thread::spawn(move || {
        let (mut waits, mut waited) = (0u64, 0u128);
        let mut seen = 0;
        let mut g = READY.lock().unwrap();
        while seen < notifies {
            while *g == seen {
                waits += 1;
                let t = Instant::now();
                g = SIGNAL.wait(g).unwrap();
                waited += t.elapsed().as_nanos();
            }
            seen = *g;
        }
        (waits, waited)
    });
    for _ in 0..notifies {
        thread::sleep(Duration::from_millis(5));
        *READY.lock().unwrap() += 1;
        SIGNAL.notify_one();
    }
    let (waits, waited) = consumer.join().unwrap();
    println!("condvar notifies={} waits={} wait_ns={}", notifies, waits, waited);
}
