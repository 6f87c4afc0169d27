#!/usr/bin/perl
# A callee played by the Perl Net::SIP: Net::SIP::Simple's listen answers --calls calls on
# --leg and echoes each caller's RTP back (the 'recv_echo' media of bench/listen.pl), then
# exits once every one of them was torn down. Exits 0 when that happened within --timeout
# seconds, 1 else; prints "listening on IP:PORT" once bound, then a line per call.
#
#   perl_echo_uas.pl --leg 127.0.0.1:5070 [--calls 1] [--timeout 20]
use strict;
use warnings;
use Getopt::Long;
use Net::SIP;

my ($leg, $calls, $timeout) = (undef, 1, 20);
GetOptions(
    'leg=s'     => \$leg,
    'calls=i'   => \$calls,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT [--calls N] [--timeout S]\n";
die "--leg is required\n" unless $leg;
$| = 1;

sub fail { print STDERR "perl_echo_uas: FAILED: @_\n"; exit 1; }

my $ua = Net::SIP::Simple->new(
    leg  => $leg,
    from => "sip:echo\@$leg",
) or fail("cannot bind $leg");
print "listening on $leg\n";

my ($established, $closed, $echoed) = (0, 0, 0);
my $done;
$ua->listen(
    # The callback sees every packet it echoes: the count says RTP flowed both ways.
    init_media     => $ua->rtp('recv_echo', sub { $echoed++ }),
    cb_established => sub { $established++; print "established\n"; },
    cb_cleanup     => sub {
        $closed++;
        print "closed\n";
        $done = 1 if $closed >= $calls;
    },
);
$ua->loop($timeout, \$done);
# Let the 200 to the last BYE go out before leaving.
$ua->loop(0.5);
print "echoed $echoed RTP packets\n";
if ($established >= $calls && $closed >= $calls) {
    print "calls set up and torn down: $closed\n";
    exit 0;
}
fail("established=$established closed=$closed of $calls within ${timeout}s");
