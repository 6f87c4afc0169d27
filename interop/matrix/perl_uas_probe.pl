#!/usr/bin/perl
# A callee played by the Perl Net::SIP, on its dispatcher alone (no dialogs): prints every
# request it gets ("request METHOD URI", then "via: ..." for each Via, top first), answers
# each but ACK with --code, and exits 0 after the ACK of an INVITE (or after answering a
# request of another method); 1 when nothing came within --timeout.
#
#   perl_uas_probe.pl --leg 127.0.0.1:5070 --code 404 [--proto udp|tcp|tls --certs DIR]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);

my ($leg_addr, $code, $proto, $certs, $timeout) = (undef, 404, 'udp', undef, 15);
GetOptions(
    'leg=s'     => \$leg_addr,
    'code=i'    => \$code,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT [--code CODE --proto P --certs DIR --timeout S]\n";
die "--leg is required\n" unless $leg_addr;
$| = 1;

my %reason = (404 => 'Not Found', 486 => 'Busy Here', 603 => 'Decline', 200 => 'OK');
my $leg = make_leg($leg_addr, $proto, $certs);
my $loop = Net::SIP::Dispatcher::Eventloop->new;
my $disp = Net::SIP::Dispatcher->new([$leg], $loop);
my $done;
$disp->set_receiver(sub {
    my ($packet, $in_leg, $from) = @_;
    return unless $packet->is_request;
    my $method = $packet->method;
    print "request $method " . $packet->uri . "\n";
    print "via: $_\n" for $packet->get_header('via');
    if ($method eq 'ACK') {
        $done = 1;
        return;
    }
    my $response = $packet->create_response($code, $reason{$code} || 'Refused');
    $disp->deliver($response, leg => $in_leg, dst_addr => $from);
    $done = 1 unless $method eq 'INVITE';
});
print "listening on $leg_addr ($proto)\n";
$loop->loop($timeout, \$done);
if ($done) {
    # Let the last response go out.
    $loop->loop(0.3);
    exit 0;
}
print STDERR "perl_uas_probe: FAILED: no ACK (or request) within ${timeout}s\n";
exit 1;
