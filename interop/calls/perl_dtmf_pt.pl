#!/usr/bin/perl
# A caller played by the Perl Net::SIP that sends RFC 4733 DTMF under a payload type of its
# choosing: its own SDP offers PCMU and telephone-event on --event-pt (Net::SIP's default
# offer always says 101), it sends silence, then --digits with Simple::Call's dtmf (methods
# rfc2833: Net::SIP sends the events under the payload type the callee's answer gives them),
# then hangs up. Every SIP message is printed (see CallsProbe.pm). Exits 0 when the call was
# set up, every digit sent and the call torn down, 1 else.
#
#   perl_dtmf_pt.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5070 --to sip:a@127.0.0.1:5070 \
#       --digits 123# [--event-pt 96] [--timeout 15]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Getopt::Long;
use Net::SIP;
use Net::SIP::Util qw(create_rtp_sockets);
use NetsipInterop qw(make_leg);
use CallsProbe;

my ($leg, $proxy, $to, $digits, $pt, $timeout) = (undef, undef, undef, undef, 96, 15);
GetOptions(
    'leg=s'      => \$leg,
    'proxy=s'    => \$proxy,
    'to=s'       => \$to,
    'digits=s'   => \$digits,
    'event-pt=i' => \$pt,
    'timeout=i'  => \$timeout,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to URI --digits D [--event-pt PT]\n";
die "--leg, --proxy, --to and --digits are required\n"
    unless $leg && $proxy && $to && defined $digits;
$| = 1;

sub fail { print STDERR "perl_dtmf_pt: FAILED: @_\n"; exit 1; }

my ($ip) = $leg =~ m{^\[?([^\]]+?)\]?:\d+$} or fail("no address in --leg $leg");
my $ua = Net::SIP::Simple->new(
    leg            => make_leg($leg, 'udp'),
    outgoing_proxy => "sip:$proxy",
    from           => "sip:perl\@$leg",
) or fail("cannot bind $leg");

# Our own offer needs our own RTP sockets (Net::SIP takes an SDP only with its sockets).
my ($port, @socks) = create_rtp_sockets($ip) or fail("no RTP sockets on $ip: $!");
my $sdp = Net::SIP::SDP->new(
    { addr => $ip },
    {
        media => 'audio',
        proto => 'RTP/AVP',
        port  => $port,
        fmt   => [ 0, $pt ],
        a     => [ 'rtpmap:0 PCMU/8000', "rtpmap:$pt telephone-event/8000", "fmtp:$pt 0-16",
                   'ptime:20' ],
    },
);

my ($peer_bye, $no_answer);
my $call = $ua->invite(
    $to,
    sdp          => $sdp,
    media_lsocks => [ @socks == 1 ? $socks[0] : \@socks ],
    ring_time    => $timeout,
    init_media   => $ua->rtp('send_recv', sub { "\xff" x 160 }, 0),
    recv_bye     => \$peer_bye,
    cb_noanswer  => \$no_answer,
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
fail("no answer from $to") if $no_answer;
print "call up\n";

$ua->loop(0.3);
my $dtmf_done;
$call->dtmf($digits, methods => 'rfc2833', cb_final => \$dtmf_done);
$ua->loop($timeout, \$dtmf_done, \$peer_bye);
fail("the callee hung up during the DTMF") if $peer_bye && !$dtmf_done;
fail("DTMF not sent within ${timeout}s") unless $dtmf_done;
print "dtmf sent: $digits (offered telephone-event/$pt)\n";
$ua->loop(0.3);

my $stop;
$call->bye(cb_final => \$stop);
$ua->loop(5, \$stop);
fail("no answer to the BYE within 5s") unless $stop;
print "call torn down\n";
exit 0;
