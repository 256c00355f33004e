// 8 threads on one lock; prints the threads' own time spent entering it.
//   java Monitors [ROUNDS] [synchronized|reentrant]
// synchronized: a synchronized block on one object (HotSpot's ObjectMonitor);
// reentrant: a java.util.concurrent.locks.ReentrantLock (LockSupport.park).
import java.util.concurrent.locks.ReentrantLock;

public class Monitors {
    static final Object LOCK = new Object();
    static final ReentrantLock REENTRANT = new ReentrantLock();
    static long counter;
    static void spin(long ns) { long t = System.nanoTime(); while (System.nanoTime() - t < ns) { } }
    public static void main(String[] args) throws Exception {
        int threads = 8, rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        boolean reentrant = args.length > 1 && args[1].equals("reentrant");
        long[] waited = new long[threads];
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            final int id = i;
            ts[i] = new Thread(() -> {
                for (int r = 0; r < rounds; r++) {
                    long t0 = System.nanoTime();
                    if (reentrant) {
                        REENTRANT.lock();
                        try {
                            waited[id] += System.nanoTime() - t0;
                            counter++;
                            spin(2_000_000);
                        } finally {
                            REENTRANT.unlock();
                        }
                    } else {
                        synchronized (LOCK) {
                            waited[id] += System.nanoTime() - t0;
                            counter++;
                            spin(2_000_000);
                        }
                    }
                    spin(200_000);
                }
            });
        }
        for (Thread t : ts) t.start();
        for (Thread t : ts) t.join();
        long total = 0;
        for (long w : waited) total += w;
        System.out.println("counter=" + counter + " entry_wait_ns=" + total);
    }
}
