/* use_hidden_lock.c — calls the stripped library's entry point (lib_hidden_lock.c). */
#include <stdio.h>

void hidden_entry(int n);

int main(void) {
    hidden_entry(1000);
    puts("ok");
    return 0;
}
