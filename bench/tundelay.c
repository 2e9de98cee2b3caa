// (A copy of shared/tools/tundelay.c, used by bench/wan-link beside it.)
// tundelay NS_A NS_B DELAY_AB_MS DELAY_BA_MS
// netem substitute (this kernel has no sch_netem): creates TUN device "tdA" inside netns NS_A and "tdB" inside
// netns NS_B, and forwards IP packets between them after a fixed one-way delay per direction. Rate limiting is
// done separately with tc (tbf/htb) on tdA/tdB egress. Configure addresses with `ip netns exec`.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#define SLOTS 32768
#define PKTMAX 2048
typedef struct { long long due[SLOTS]; int len[SLOTS]; char *buf; unsigned head, tail; long long delay_ns, drops; } q_t;
static long long now_ns(void){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1000000000LL+t.tv_nsec; }
static int tun_in_ns(const char *ns, const char *name){
  char p[256]; snprintf(p,sizeof p,"/run/netns/%s",ns); int nfd=open(p,O_RDONLY); if(nfd<0||setns(nfd,CLONE_NEWNET)){perror(p);exit(1);}
  int fd=open("/dev/net/tun",O_RDWR|O_NONBLOCK); if(fd<0){perror("tun");exit(1);}
  struct ifreq r; memset(&r,0,sizeof r); r.ifr_flags=IFF_TUN|IFF_NO_PI; strncpy(r.ifr_name,name,IFNAMSIZ-1);
  if(ioctl(fd,TUNSETIFF,&r)){perror("TUNSETIFF");exit(1);} close(nfd); return fd; }
static void pump_in(int fd, q_t *q){ for(;;){ unsigned i=q->tail%SLOTS; if(q->tail-q->head>=SLOTS){ char junk[PKTMAX]; if(read(fd,junk,PKTMAX)<=0) return; q->drops++; continue; }
  int n=read(fd,q->buf+(size_t)i*PKTMAX,PKTMAX); if(n<=0) return; q->len[i]=n; q->due[i]=now_ns()+q->delay_ns; q->tail++; } }
static void pump_out(int fd, q_t *q, long long t){ while(q->head!=q->tail && q->due[q->head%SLOTS]<=t){ unsigned i=q->head%SLOTS; if(write(fd,q->buf+(size_t)i*PKTMAX,q->len[i])<0){} q->head++; } }
int main(int c, char **v){
  if(c<5){fprintf(stderr,"usage: %s NS_A NS_B DELAY_AB_MS DELAY_BA_MS\n",v[0]);return 2;}
  int a=tun_in_ns(v[1],"tdA"), b=tun_in_ns(v[2],"tdB");
  static q_t ab, ba; ab.buf=malloc((size_t)SLOTS*PKTMAX); ba.buf=malloc((size_t)SLOTS*PKTMAX);
  ab.delay_ns=atof(v[3])*1e6; ba.delay_ns=atof(v[4])*1e6;
  printf("tundelay ready: tdA in %s, tdB in %s, A->B %s ms, B->A %s ms\n",v[1],v[2],v[3],v[4]); fflush(stdout);
  for(;;){
    long long t=now_ns(), next=-1;
    if(ab.head!=ab.tail) next=ab.due[ab.head%SLOTS]; if(ba.head!=ba.tail && (next<0||ba.due[ba.head%SLOTS]<next)) next=ba.due[ba.head%SLOTS];
    struct timespec to, *top=NULL; if(next>=0){ long long d=next-t; if(d<0)d=0; to.tv_sec=d/1000000000LL; to.tv_nsec=d%1000000000LL; top=&to; }
    struct pollfd p[2]={{a,POLLIN,0},{b,POLLIN,0}}; ppoll(p,2,top,NULL);
    if(p[0].revents&POLLIN) pump_in(a,&ab); if(p[1].revents&POLLIN) pump_in(b,&ba);
    t=now_ns(); pump_out(b,&ab,t); pump_out(a,&ba,t);
  }
}
