/* An OpenMP loop whose static schedule splits the work unevenly: iteration i
 * costs i units, so with 2 threads the second gets 3x the first's work and the
 * first waits at the loop's barrier, 20 times over. At the default wait policy
 * libgomp's waiting thread spins on its CPU (perf sees it running); with
 * OMP_WAIT_POLICY=passive it sleeps in futex calls. Prints the loops' own wall
 * time. Build with -fopenmp. Usage: omp_imbalance N UNIT (default 100 4000). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    long unit = argc > 2 ? atol(argv[2]) : 4000;
    volatile double sink = 0;
    double t0 = now();
    for (int rep = 0; rep < 20; rep++) {
        double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum)
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (long k = 0; k < (long)i * unit; k++) s += (double)k * 1e-9;
            sum += s;
        }
        sink += sum;
    }
    printf("{\"threads\": %d, \"wall_s\": %.6f}\n", omp_get_max_threads(), now() - t0);
    return 0;
}
