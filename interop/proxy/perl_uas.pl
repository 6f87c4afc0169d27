#!/usr/bin/perl
# A callee played by the Perl Net::SIP behind `netsip proxy --registrar`: registers --user at
# the proxy (its registrar), then Net::SIP::Simple's listen answers one call (200 with an SDP
# answer), echoes the caller's RTP back and waits for the BYE. Exits 0 once the registration
# succeeded and the call was set up (ACK) and torn down, 1 else.
#
#   perl_uas.pl --leg 127.0.0.1:5070 --proxy 127.0.0.1:5060 --user bob@example.com [--timeout 20]
#       [--proto udp|tcp|tls --certs DIR]
#
# With --proto the leg (and so the registration's Contact) is TCP or TLS; IPv6 as [::1]:PORT.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg, $proxy, $user, $timeout, $proto, $certs) = (undef, undef, undef, 20, 'udp', undef);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'user=s'    => \$user,
    'timeout=i' => \$timeout,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --user USER\@DOMAIN [--timeout S]\n";
die "--leg, --proxy and --user are required\n" unless $leg && $proxy && $user;
$| = 1;

sub fail { print STDERR "perl_uas: FAILED: @_\n"; exit 1; }

my ($name) = split /\@/, $user;
my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $ua = Net::SIP::Simple->new(
    leg       => make_leg($leg, $proto, $certs),
    registrar => $proto eq 'tls' ? "sips:$proxy" : $proxy,
    from      => "$scheme:$user",
    contact   => $proto eq 'tcp' ? "<sip:$name\@$leg;transport=tcp>" : "$scheme:$name\@$leg",
) or fail("cannot bind $leg");

my $expires = $ua->register(expires => 300)
    or fail("register at $proxy: " . ($ua->error || 'no 2xx'));
print "registered for $expires s\n";

my ($established, $closed, $echoed) = (0, 0, 0);
$ua->listen(
    init_media     => $ua->rtp('recv_echo', sub { $echoed++ }),
    cb_established => sub { $established = 1; print "established\n"; },
    cb_cleanup     => sub { $closed = 1; print "closed\n"; },
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
