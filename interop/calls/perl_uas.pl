#!/usr/bin/perl
# A callee played by the Perl Net::SIP on a UDP, TCP or TLS leg (IPv4 or IPv6): by default
# Net::SIP::Simple's listen answers one call and echoes the caller's RTP back ('recv_echo',
# as bench/listen.pl); with --ring-only it answers the INVITE with 180 Ringing and nothing
# more, so that the caller must CANCEL (Net::SIP's endpoint then answers 200 to the CANCEL and
# 487 to the INVITE). Every SIP message is printed (see CallsProbe.pm). Exits 0 once the call
# was set up and torn down (echo) or cancelled (--ring-only) within --timeout seconds, 1 else.
#
#   perl_uas.pl --leg 127.0.0.1:5070 [--proto udp|tcp|tls --certs DIR] [--ring-only]
#       [--timeout 20]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);
use CallsProbe;

my ($leg, $proto, $certs, $ring_only, $timeout) = (undef, 'udp', undef, 0, 20);
GetOptions(
    'leg=s'     => \$leg,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
    'ring-only' => \$ring_only,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT [--proto P --certs DIR] [--ring-only] [--timeout S]\n";
die "--leg is required\n" unless $leg;
$| = 1;

sub fail { print STDERR "perl_uas: FAILED: @_\n"; exit 1; }

my $ua = Net::SIP::Simple->new(
    leg  => make_leg($leg, $proto, $certs),
    from => ($proto eq 'tls' ? 'sips' : 'sip') . ":echo\@$leg",
) or fail("cannot bind $leg");

my ($established, $closed, $echoed, $cancelled) = (0, 0, 0, 0);
$ua->listen(
    init_media     => $ua->rtp('recv_echo', sub { $echoed++ }),
    cb_established => sub { $established++; print "established\n"; },
    cb_cleanup     => sub { $closed++; print "closed\n"; },
    # Net::SIP calls this for the BYE and for the CANCEL alike.
    recv_bye       => sub { $cancelled++ unless $established },
    $ring_only
        ? (cb_invite => sub {
               my (undef, $request) = @_;
               return $request->create_response('180', 'Ringing');
           })
        : (),
);
print "listening on $leg\n";
$ua->loop($timeout, \$closed);
# Let the last response (200 to the BYE, or 200 and 487 for the CANCEL) go out.
$ua->loop(0.5);
print "echoed $echoed RTP packets\n";
if ($ring_only) {
    fail("never answered, but no CANCEL came within ${timeout}s (closed=$closed)")
        unless $cancelled && $closed;
    fail("the call was set up though it was never answered") if $established;
    print "call cancelled\n";
    exit 0;
}
fail("established=$established closed=$closed within ${timeout}s")
    unless $established && $closed;
print "call set up and torn down\n";
exit 0;
