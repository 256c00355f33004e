// rust_channel_pool WORKERS TASKS N — WORKERS threads take tasks from one
// `Mutex<mpsc::Receiver>` (the usual way to share a std channel's receiving
// end) and send back the result of N iterations of arithmetic each; the main
// thread sends TASKS tasks up front and sums the results. The workers hold the
// mutex only for a `recv` that finds a task waiting, so they run in parallel:
// with more workers than cores, their waits for the mutex are mostly its
// holders' waits for a CPU. Prints one JSON line: wall_s, sum.
use std::sync::mpsc;
use std::thread;
use std::time::Instant;
fn work(n: u64) -> u64 { let mut s = 0u64; for i in 0..n { s = s.wrapping_add((i * i) % 7); } s }
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (workers, tasks, n): (usize, usize, u64) = (a[1].parse().unwrap(), a[2].parse().unwrap(), a[3].parse().unwrap());
    let t0 = Instant::now();
    let (tx, rx) = mpsc::channel::<u64>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let (rtx, rrx) = mpsc::channel::<u64>();
    let hs: Vec<_> = (0..workers).map(|_| { let rx = rx.clone(); let rtx = rtx.clone(); thread::spawn(move || loop {
        let m = rx.lock().unwrap().recv(); match m { Ok(v) => rtx.send(work(v)).unwrap(), Err(_) => break } }) }).collect();
    for _ in 0..tasks { tx.send(n).unwrap(); }
    drop(tx);
    let mut s = 0u64; for _ in 0..tasks { s = s.wrapping_add(rrx.recv().unwrap()); }
    for h in hs { h.join().unwrap(); }
    println!("{{\"wall_s\": {:.6}, \"sum\": {}}}", t0.elapsed().as_secs_f64(), s);
}
