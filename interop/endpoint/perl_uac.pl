#!/usr/bin/perl
# A caller played by the Perl Net::SIP: registers at --registrar with Net::SIP::Simple's
# register, then calls --to with invite, keeps the call up a moment and hangs up with bye.
# Exits 0 when the registration succeeded and the call was set up and torn down, 1 else.
#
#   perl_uac.pl --leg 127.0.0.1:5062 --registrar 127.0.0.1:5060 --to 127.0.0.1:5070
#       [--proto udp|tcp|tls --certs DIR]
#
# IPv6 as [::1]:PORT; with --proto the leg, and so the registration and the call, use TCP or
# TLS (see interop/lib/NetsipInterop.pm).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg, $registrar, $to, $timeout, $proto, $certs) = (undef, undef, undef, 10, 'udp', undef);
GetOptions(
    'leg=s'       => \$leg,
    'registrar=s' => \$registrar,
    'to=s'        => \$to,
    'timeout=i'   => \$timeout,
    'proto=s'     => \$proto,
    'certs=s'     => \$certs,
) or die "usage: $0 --leg IP:PORT --registrar IP:PORT --to IP:PORT\n";
die "--leg, --registrar and --to are required\n" unless $leg && $registrar && $to;
$| = 1;

sub fail { print STDERR "perl_uac: FAILED: @_\n"; exit 1; }

my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $ua = Net::SIP::Simple->new(
    leg       => make_leg($leg, $proto, $certs),
    registrar => $proto eq 'tls' ? "sips:$registrar" : $registrar,
    from      => "$scheme:perl\@$leg",
    contact   => $proto eq 'tcp' ? "<sip:perl\@$leg;transport=tcp>" : "$scheme:perl\@$leg",
) or fail("cannot bind $leg");

my $expires = $ua->register(expires => 300) or fail("register: " . ($ua->error || 'no answer'));
print "registered for $expires s\n";

# A sip: URI without a transport means UDP (RFC 3263 §4.1).
my $target = $proto eq 'tcp' ? "<sip:netsip\@$to;transport=tcp>" : "$scheme:netsip\@$to";
my $call = $ua->invite($target, ring_time => $timeout)
    or fail("invite: " . ($ua->error || 'no answer'));
fail("invite: " . $call->error) if $call->error;
print "call up\n";
$ua->loop(0.5);

my $stop;
$call->bye(cb_final => sub { $stop = 1 });
$ua->loop($timeout, \$stop);
fail("no answer to the BYE within ${timeout}s") unless $stop;
print "call torn down\n";
exit 0;
