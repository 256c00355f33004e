/* A static parent (gcc -static: the runtime cannot enter it) with a traced child: fork, exec /bin/echo, wait. */
#include <unistd.h>
#include <sys/wait.h>
#include <stdio.h>
int main(void){ pid_t p=fork(); if(p==0){ execl("/bin/echo","echo","child",(char*)0); _exit(127);} int st; waitpid(p,&st,0); printf("parent done\n"); return 0; }
