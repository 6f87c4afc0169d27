#!/usr/bin/perl
# The caller of the Perl side of `cargo xtask bench calls`: Net::SIP's example bench/call.pl
# rewritten, because the one Debian ships (Net::SIP 0.835) drops the Call object that invite
# returns, so that the weakened callback never sees the 200 and no call ever reaches
# "All N calls connected". This one keeps its calls, does what call.pl does and also ends:
#
# - places --calls parallel calls to --to through --proxy (the callee's address),
# - sends, every 20 ms per call, an RTP packet (PCMU, 160 bytes) whose payload starts with a
#   sequence number and the send time (call.pl's format: pack "NNN", seq, seconds,
#   microseconds), and reads them back from the callee's RTP echo,
# - lets the calls settle for --warmup seconds once every call is up (the echo of the setup
#   burst is not measured), then
# - prints call.pl's statistics line every --stat-timer seconds:
#       SECONDS pkt=RECEIVED/LOST/IGNORED delay(ms)=AVG/MIN/MAX
# - after --duration seconds prints one total line and hangs up:
#       total calls=N/M seconds=S sent=X received=Y lost=Z ignored=W delay(ms)=AVG/MIN/MAX
#
# Exits 0 when every call was set up, 1 else (with the number set up on stderr).
#
#   perl_bench_call.pl --to sip:echo@127.0.0.1:5070 --proxy 127.0.0.1:5070 --calls 50 \
#       [--leg 127.0.0.1:0] [--duration 5] [--warmup 1] [--stat-timer 1] [--setup-timeout 20]
use strict;
use warnings;
use Getopt::Long;
use Time::HiRes qw(gettimeofday);
use Net::SIP;

my ($to, $proxy, $leg, $calls, $duration, $warmup, $stat_timer, $setup_timeout) =
    (undef, undef, '127.0.0.1:0', 10, 5, 1, 1, 20);
GetOptions(
    'to=s'            => \$to,
    'proxy=s'         => \$proxy,
    'leg=s'           => \$leg,
    'calls=i'         => \$calls,
    'duration=f'      => \$duration,
    'warmup=f'        => \$warmup,
    'stat-timer=f'    => \$stat_timer,
    'setup-timeout=f' => \$setup_timeout,
) or die "usage: $0 --to URI --proxy HOST:PORT --calls N [--duration S]\n";
die "--to and --proxy are required\n" unless $to && $proxy;
$| = 1;

my $loop = Net::SIP::Dispatcher::Eventloop->new;
my $ua = Net::SIP::Simple->new(
    from           => "sip:bench\@$leg",
    leg            => $leg,
    outgoing_proxy => $proxy,
    loop           => $loop,
) or die "perl_bench_call: FAILED: cannot bind $leg\n";

# Statistics of the current interval and of the whole measurement.
my $measuring = 0;
my %interval;
my %total = (sent => 0);
sub reset_stats {
    my ($s) = @_;
    @$s{qw(ok lost ignored sum)} = (0, 0, 0, 0);
    @$s{qw(min max)} = (undef, undef);
}
reset_stats(\%interval);
reset_stats(\%total);

# The payload: sequence (0 while calls are still being set up) and send time, padded to 160.
sub payload {
    my ($seq) = @_;
    my $now = $loop->looptime;
    my $sec = int($now);
    my $usec = int(($now - $sec) * 1_000_000);
    my $n = 0;
    if ($measuring) {
        $n = $$seq++;
        $total{sent}++;
    }
    return pack('NNN', $n, $sec, $usec) . (' ' x 148);
}

sub account {
    my ($s, $delay, $lost) = @_;
    $s->{ok}++;
    $s->{lost} += $lost;
    $s->{sum} += $delay;
    $s->{min} = $delay if !defined $s->{min} || $delay < $s->{min};
    $s->{max} = $delay if !defined $s->{max} || $delay > $s->{max};
}

# A packet back: a sequence jump counts the packets in between as lost, as call.pl does.
sub echoed {
    my ($last, $payload) = @_;
    return if length($payload) < 12;
    my ($n, $sec, $usec) = unpack('NNN', $payload);
    return if !$n;
    my $diff = $n - $$last;
    if ($diff <= 0 || $diff > 10000) {
        $interval{ignored}++;
        $total{ignored}++;
        return;
    }
    $$last = $n;
    my $delay = $loop->looptime - ($sec + $usec / 1e6);
    account(\%interval, $delay, $diff - 1);
    account(\%total, $delay, $diff - 1);
}

sub line {
    my ($s) = @_;
    my $l = sprintf "pkt=%d/%d/%d", $s->{ok}, $s->{lost}, $s->{ignored};
    $l .= sprintf " delay(ms)=%.2f/%.2f/%.2f", $s->{sum} / $s->{ok} * 1000,
        $s->{min} * 1000, $s->{max} * 1000 if $s->{ok};
    return $l;
}

my (@calls, @final);
for my $i (1 .. $calls) {
    my ($next, $last) = (1, 0);
    my $final;
    push @final, \$final;
    push @calls, $ua->invite(
        $to,
        cb_final   => sub { $final = shift },
        init_media => $ua->rtp('send_recv', [\&payload, \$next], 0, [\&echoed, \$last]),
    );
}

my $up = 0;
my $setup_end = gettimeofday() + $setup_timeout;
while (1) {
    $up = grep { defined $$_ && $$_ eq 'OK' } @final;
    last if !grep { !defined $$_ } @final;
    my $left = $setup_end - gettimeofday();
    last if $left <= 0;
    $ua->loop($left < 0.1 ? $left : 0.1);
}
if ($up < $calls) {
    print STDERR "perl_bench_call: FAILED: $up of $calls calls set up\n";
    exit 1;
}
print STDERR "All $calls calls connected....\n";
$ua->loop($warmup) if $warmup > 0;

$measuring = 1;
my $start = gettimeofday();
$ua->add_timer($stat_timer, sub {
    printf "%5d %s\n", gettimeofday() - $start, line(\%interval);
    reset_stats(\%interval);
}, $stat_timer);
$ua->loop($duration);
my $took = gettimeofday() - $start;
$measuring = 0;
printf "total calls=%d/%d seconds=%.2f sent=%d received=%d lost=%d ignored=%d%s\n",
    $up, $calls, $took, $total{sent}, $total{ok}, $total{lost}, $total{ignored},
    $total{ok} ? sprintf(" delay(ms)=%.2f/%.2f/%.2f", $total{sum} / $total{ok} * 1000,
        $total{min} * 1000, $total{max} * 1000) : '';

# Hang up; a callee too busy to answer every BYE in time does not change the numbers.
my $byes = 0;
$_->bye(cb_final => sub { $byes++ }) for @calls;
my $bye_end = gettimeofday() + 2;
$ua->loop(0.1) while $byes < @calls && gettimeofday() < $bye_end;
exit 0;
