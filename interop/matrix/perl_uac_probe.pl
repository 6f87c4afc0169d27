#!/usr/bin/perl
# A caller played by the Perl Net::SIP that expects a refusal: sends one INVITE to --to
# through --proxy (its outgoing proxy) on a --proto leg and waits for the final response.
# Prints "final CODE" and each Via of that response ("via: ..."); Net::SIP sends the ACK of
# the non-2xx answer itself (RFC 3261 §17.1.1.3). Exits 0 when the code is --expect and the
# response carries exactly one Via, ours (RFC 3261 §16.7 step 3: the proxy removes its own),
# 1 else. With --route the proxy is named in a Route header (loose routing) instead of
# being the outgoing proxy: Net::SIP sends a request whose URI has a maddr straight to the
# maddr, whatever its outgoing proxy.
#
#   perl_uac_probe.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5060 \
#       --to 'sip:bob@127.0.0.1:5070' --expect 404 [--proto udp|tcp|tls --certs DIR] [--route]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg_addr, $proxy, $to, $expect, $proto, $certs, $timeout, $route) =
    (undef, undef, undef, undef, 'udp', undef, 10, 0);
GetOptions(
    'leg=s'     => \$leg_addr,
    'proxy=s'   => \$proxy,
    'to=s'      => \$to,
    'expect=i'  => \$expect,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
    'timeout=i' => \$timeout,
    'route'     => \$route,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to URI --expect CODE [--proto P --certs DIR]\n";
die "--leg, --proxy, --to and --expect are required\n"
    unless $leg_addr && $proxy && $to && $expect;
$| = 1;

sub fail { print STDERR "perl_uac_probe: FAILED: @_\n"; exit 1; }

my $leg = make_leg($leg_addr, $proto, $certs);
my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $proxy_uri = "$scheme:$proxy" . ($proto eq 'tcp' ? ';transport=tcp' : '');
my $ua = Net::SIP::Simple->new(
    leg     => $leg,
    ($route ? () : (outgoing_proxy => $proxy_uri)),
    from    => "$scheme:alice\@example.com",
    contact => "$scheme:alice\@$leg_addr",
) or fail("cannot bind $leg_addr");

my ($status, $code, $packet, $errno);
# Keep the call: its callbacks hold it only weakly.
my $call = $ua->invite(
    $to,
    ($route ? (sip_header => { route => "<$proxy_uri;lr>" }) : ()),
    cb_final => sub {
        my ($st, $call, %info) = @_;
        ($status, $code, $packet) = ($st, $info{code}, $info{packet});
        $errno = $info{errno};
    },
) or fail("invite $to: " . ($ua->error || 'cannot send'));
$ua->loop($timeout, \$status);
fail("no final response within ${timeout}s") unless $status;
# Let the ACK go out.
$ua->loop(0.5);
fail("no response: " . ($ua->error || "error $errno")) if !$code && $status ne 'OK';
$code ||= 200;
print "final $code\n";
my @via = $packet ? $packet->get_header('via') : ();
print "via: $_\n" for @via;
fail("expected $expect, got $code") unless $code == $expect;
fail(scalar(@via) . " Via headers in the response, expected only ours") unless @via == 1;
my ($port) = $leg_addr =~ /:(\d+)$/;
fail("the Via left is not ours: $via[0]") unless $via[0] =~ /:$port\b/;
print "ok\n";
exit 0;
