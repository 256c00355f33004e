// go_goroutines — goroutines whose truth the program measures itself, for
// checking what gtrace says about a static Go binary it cannot enter.
//
//	go_goroutines cpu GOROUTINES              split a fixed amount of arithmetic
//	go_goroutines mutex GOROUTINES ROUNDS HOLD_US
//	                                          each round: hold one sync.Mutex
//	                                          HOLD_US (spinning), then spin HOLD_US/4
//
// Prints one JSON line: wall and process CPU (getrusage) in ms, and for mutex the
// total time the mutex was held, measured by its holders.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func cpuMs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_goroutines cpu N | mutex N ROUNDS HOLD_US")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[2])
	var wg sync.WaitGroup
	var mu sync.Mutex
	var held time.Duration
	sink := make([]int, n)
	start := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if os.Args[1] == "cpu" {
				sink[g] = work(600000000 / n)
				return
			}
			rounds, _ := strconv.Atoi(os.Args[3])
			hold, _ := strconv.Atoi(os.Args[4])
			for r := 0; r < rounds; r++ {
				mu.Lock()
				t := time.Now()
				spin(time.Duration(hold) * time.Microsecond)
				held += time.Since(t)
				mu.Unlock()
				spin(time.Duration(hold/4) * time.Microsecond)
			}
		}(g)
	}
	wg.Wait()
	fmt.Printf("{\"wall_ms\": %.3f, \"cpu_ms\": %.3f, \"held_ms\": %.3f}\n",
		float64(time.Since(start).Nanoseconds())/1e6, cpuMs(), float64(held.Nanoseconds())/1e6)
}
