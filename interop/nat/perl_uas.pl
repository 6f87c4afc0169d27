#!/usr/bin/perl
# A callee played by the Perl Net::SIP for the NAT relay scenarios: registers --user at
# --proxy (its registrar), answers one call, echoes the caller's RTP and waits for the BYE.
# Prints where its own media listens and where the offer's SDP says the caller's media is,
# so that the runner can check that the offer names the relay, not the caller:
#
#   registered for N s
#   offer media IP:PORT
#   own media 127.0.0.1:PORT
#   echoed N RTP packets
#
# Exits 0 once the registration succeeded and the call was set up (ACK) and torn down.
#
#   perl_uas.pl --leg 127.0.0.1:5070 --proxy 127.0.0.1:5060 --user bob@example.com [--timeout 20]
use strict;
use warnings;
use Getopt::Long;
use Net::SIP;

my ($leg, $proxy, $user, $timeout) = (undef, undef, undef, 20);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'user=s'    => \$user,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --user USER\@DOMAIN [--timeout S]\n";
die "--leg, --proxy and --user are required\n" unless $leg && $proxy && $user;
$| = 1;

sub fail { print STDERR "perl_uas: FAILED: @_\n"; exit 1; }

sub first_media {
    my $sdp = shift or return 'none';
    my ($m) = $sdp->get_media;
    return $m ? "$m->{addr}:$m->{port}" : 'none';
}

my ($name) = split /\@/, $user;
my $ua = Net::SIP::Simple->new(
    leg       => $leg,
    registrar => $proxy,
    from      => "sip:$user",
    contact   => "sip:$name\@$leg",
) or fail("cannot bind $leg");

my $expires = $ua->register(expires => 300)
    or fail("register at $proxy: " . ($ua->error || 'no 2xx'));
print "registered for $expires s\n";

my ($established, $closed, $echoed) = (0, 0, 0);
$ua->listen(
    init_media     => $ua->rtp('recv_echo', sub { $echoed++ }),
    cb_established => sub {
        my (undef, $call) = @_;
        $established = 1;
        print "established\n";
        print "offer media " . first_media($call->get_param('sdp_peer')) . "\n";
        print "own media " . first_media($call->get_param('sdp')) . "\n";
    },
    cb_cleanup => sub { $closed = 1; print "closed\n"; },
);
$ua->loop($timeout, \$closed);
# Let the 200 to the BYE go out before leaving.
$ua->loop(0.5);
print "echoed $echoed RTP packets\n";
if ($established && $closed) {
    print "call set up and torn down\n";
    exit 0;
}
fail("established=$established closed=$closed within ${timeout}s");
