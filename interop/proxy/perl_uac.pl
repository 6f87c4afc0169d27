#!/usr/bin/perl
# A caller played by the Perl Net::SIP: calls --to through --proxy (its outgoing proxy),
# sends RTP for a second, counts what comes back and hangs up with bye. Exits 0 when the
# call was set up and torn down, 1 else; prints how many RTP packets came back.
#
#   perl_uac.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5060 --to sip:bob@example.com
#       [--proto udp|tcp|tls --certs DIR]
#
# With --proto the leg (and so the way to the proxy) is TCP or TLS; IPv6 as [::1]:PORT.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg, $proxy, $to, $timeout, $proto, $certs) = (undef, undef, undef, 10, 'udp', undef);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'to=s'      => \$to,
    'timeout=i' => \$timeout,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to SIP-URI\n";
die "--leg, --proxy and --to are required\n" unless $leg && $proxy && $to;
$| = 1;

sub fail { print STDERR "perl_uac: FAILED: @_\n"; exit 1; }

my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $ua = Net::SIP::Simple->new(
    leg            => make_leg($leg, $proto, $certs),
    outgoing_proxy => "$scheme:$proxy" . ($proto eq 'tcp' ? ';transport=tcp' : ''),
    from           => "$scheme:alice\@example.com",
    contact        => $proto eq 'tcp' ? "<sip:alice\@$leg;transport=tcp>" : "$scheme:alice\@$leg",
) or fail("cannot bind $leg");

my $received = 0;
my $call = $ua->invite(
    $to,
    ring_time  => $timeout,
    init_media => $ua->rtp('send_recv', sub { 'x' x 160 }, 0, sub { $received++ }),
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
print "call up\n";
$ua->loop(1);

my $stop;
$call->bye(cb_final => sub { $stop = 1 });
$ua->loop($timeout, \$stop);
fail("no answer to the BYE within ${timeout}s") unless $stop;
print "received $received RTP packets back\n";
print "call torn down\n";
exit 0;
