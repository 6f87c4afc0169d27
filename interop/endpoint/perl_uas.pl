#!/usr/bin/perl
# A callee played by the Perl Net::SIP: Net::SIP::Simple's listen answers one call (200 with
# an SDP answer) and waits for the caller's BYE. Exits 0 once the call was set up (ACK) and
# torn down, 1 at the timeout.
#
#   perl_uas.pl --listen 127.0.0.1:5070 [--proto udp|tcp|tls --certs DIR] [--timeout 20]
#
# IPv6 as --listen [::1]:5070; a TLS leg uses the certificates in DIR (see
# interop/lib/NetsipInterop.pm).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($listen, $timeout, $proto, $certs) = (undef, 20, 'udp', undef);
GetOptions(
    'listen=s'  => \$listen,
    'timeout=i' => \$timeout,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
) or die "usage: $0 --listen IP:PORT [--proto udp|tcp|tls --certs DIR] [--timeout S]\n";
die "--listen IP:PORT is required\n" unless $listen;

my $ua = Net::SIP::Simple->new(
    leg  => make_leg($listen, $proto, $certs),
    from => ($proto eq 'tls' ? 'sips' : 'sip') . ":perl\@$listen",
) or die "cannot listen on $listen\n";

my ($established, $closed) = (0, 0);
$ua->listen(
    cb_established => sub { $established = 1; print "established\n"; },
    cb_cleanup     => sub { $closed = 1; print "closed\n"; },
);
$| = 1;
print "listening on $listen\n";
$ua->loop($timeout, \$closed);
# Let the 200 to the BYE go out before leaving.
$ua->loop(0.5);
if ($established && $closed) {
    print "call set up and torn down\n";
    exit 0;
}
print STDERR "perl_uas: FAILED: established=$established closed=$closed within ${timeout}s\n";
exit 1;
