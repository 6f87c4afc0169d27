#!/usr/bin/perl
# A caller played by the Perl Net::SIP for the NAT relay scenarios: calls --to through --proxy
# (its outgoing proxy), sends RTP for a second, counts what comes back, hangs up with bye.
# Prints where its own media listens and where the answer's SDP says the callee's media is,
# so that the runner can check that the answer names the relay, not the callee:
#
#   own media 127.0.0.1:PORT
#   answer media IP:PORT
#   received N RTP packets back
#
# Exits 0 when the call was set up and torn down, 1 else.
#
#   perl_uac.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5060 --to sip:bob@example.com
use strict;
use warnings;
use Getopt::Long;
use Net::SIP;

my ($leg, $proxy, $to, $timeout) = (undef, undef, undef, 10);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'to=s'      => \$to,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to SIP-URI [--timeout S]\n";
die "--leg, --proxy and --to are required\n" unless $leg && $proxy && $to;
$| = 1;

sub fail { print STDERR "perl_uac: FAILED: @_\n"; exit 1; }

# "IP:PORT" of the first m= line of a Net::SIP::SDP.
sub first_media {
    my $sdp = shift or return 'none';
    my ($m) = $sdp->get_media;
    return $m ? "$m->{addr}:$m->{port}" : 'none';
}

my $ua = Net::SIP::Simple->new(
    leg            => $leg,
    outgoing_proxy => "sip:$proxy",
    from           => "sip:alice\@example.com",
    contact        => "sip:alice\@$leg",
) or fail("cannot bind $leg");

my $received = 0;
my $call = $ua->invite(
    $to,
    ring_time  => $timeout,
    init_media => $ua->rtp('send_recv', sub { 'x' x 160 }, 0, sub { $received++ }),
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
print "call up\n";
print "own media " . first_media($call->get_param('sdp')) . "\n";
print "answer media " . first_media($call->get_param('sdp_peer')) . "\n";
$ua->loop(1);

my $stop;
$call->bye(cb_final => sub { $stop = 1 });
$ua->loop($timeout, \$stop);
fail("no answer to the BYE within ${timeout}s") unless $stop;
print "received $received RTP packets back\n";
print "call torn down\n";
exit 0;
