#!/usr/bin/perl
# A caller played by the Perl Net::SIP, as its example dtmf.pl does: calls --to, sends
# silence (PCMU, 20 ms packets: Net::SIP sends DTMF in the gaps of its own RTP stream), sends
# --digits with Simple::Call's dtmf over --methods (rfc2833 for RFC 4733 events, audio for
# in-band tones), then hangs up. Exits 0 when the call was set up, every digit sent and the
# call torn down, 1 else.
#
#   perl_dtmf.pl --leg 127.0.0.1:5062 --to sip:answer@127.0.0.1:5070 --digits 123#
#       [--methods rfc2833] [--timeout 20]
use strict;
use warnings;
use Getopt::Long;
use Net::SIP;

my ($leg, $to, $digits, $methods, $timeout) = (undef, undef, undef, 'rfc2833', 20);
GetOptions(
    'leg=s'     => \$leg,
    'to=s'      => \$to,
    'digits=s'  => \$digits,
    'methods=s' => \$methods,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT --to URI --digits DIGITS [--methods rfc2833|audio]\n";
die "--leg, --to and --digits are required\n" unless $leg && $to && defined $digits;
$| = 1;

sub fail { print STDERR "perl_dtmf: FAILED: @_\n"; exit 1; }

my ($host) = $to =~ m{\@([^:;>]+(?::\d+)?)} or fail("no host in $to");
my $ua = Net::SIP::Simple->new(
    leg            => $leg,
    outgoing_proxy => $host,
    from           => "sip:perl\@$leg",
) or fail("cannot bind $leg");

my ($peer_bye, $no_answer);
my $call = $ua->invite(
    $to,
    ring_time   => $timeout,
    # Silence for as long as the call lasts: 0xff is PCMU's zero.
    init_media  => $ua->rtp('send_recv', sub { "\xff" x 160 }, 0),
    recv_bye    => \$peer_bye,
    cb_noanswer => \$no_answer,
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
fail("no answer from $to") if $no_answer;
print "call up\n";

# A little audio first, as a phone does before the user presses a key.
$ua->loop(0.3);
my $dtmf_done;
$call->dtmf($digits, methods => $methods, cb_final => \$dtmf_done);
$ua->loop($timeout, \$dtmf_done, \$peer_bye);
fail("the callee hung up during the DTMF") if $peer_bye && !$dtmf_done;
fail("DTMF not sent within ${timeout}s") unless $dtmf_done;
print "dtmf sent: $digits ($methods)\n";
# Trailing audio, so that the last event's end packets are not the call's last.
$ua->loop(0.3);

my $stop;
$call->bye(cb_final => \$stop);
$ua->loop(5, \$stop);
fail("no answer to the BYE within 5s") unless $stop;
print "call torn down\n";
exit 0;
