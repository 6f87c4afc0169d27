#!/usr/bin/perl
# Registers --user at --registrar with Net::SIP::Simple's register, answering its digest
# challenge with --password. Prints "registered for N s" or "refused: ..." and exits 0 when
# the outcome is the one --expect names (ok or refused), 1 else.
#
#   perl_register.pl --leg 127.0.0.1:5062 --registrar 127.0.0.1:5060 \
#       --user alice@example.com --password secret --expect ok \
#       [--proto udp|tcp|tls] [--certs DIR]
#
# --proto picks the leg's transport (IPv6 legs as [::1]:PORT); a TLS leg trusts DIR/ca.pem
# and shows DIR/leg.pem (see interop/lib/NetsipInterop.pm).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg, $registrar, $user, $password, $expect, $proto, $certs) =
    (undef, undef, undef, undef, 'ok', 'udp', undef);
GetOptions(
    'leg=s'       => \$leg,
    'registrar=s' => \$registrar,
    'user=s'      => \$user,
    'password=s'  => \$password,
    'expect=s'    => \$expect,
    'proto=s'     => \$proto,
    'certs=s'     => \$certs,
) or die "usage: $0 --leg IP:PORT --registrar IP:PORT --user U\@D --password P [--expect ok|refused]\n";
die "--leg, --registrar, --user and --password are required\n"
    unless $leg && $registrar && $user && defined $password;
die "--expect is ok or refused\n" unless $expect =~ /^(ok|refused)$/;
$| = 1;

my ($name) = split /\@/, $user;
my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $ua = Net::SIP::Simple->new(
    leg       => make_leg($leg, $proto, $certs),
    registrar => $proto eq 'tls' ? "sips:$registrar" : $registrar,
    from      => "$scheme:$user",
    contact   => $proto eq 'tcp' ? "<sip:$name\@$leg;transport=tcp>" : "$scheme:$name\@$leg",
    auth      => [ $name, $password ],
) or die "cannot bind $leg\n";

my $expires = $ua->register(expires => 300);
my $got;
if ($expires) {
    print "registered for $expires s\n";
    $got = 'ok';
} else {
    print "refused: " . ($ua->error || 'no 2xx') . "\n";
    $got = 'refused';
}
exit 0 if $got eq $expect;
print STDERR "perl_register: FAILED: expected $expect, got $got\n";
exit 1;
