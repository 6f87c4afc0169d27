#!/usr/bin/perl
# A caller played by the Perl Net::SIP on a UDP, TCP or TLS leg (IPv4 or IPv6), as
# invite_and_send.pl and invite_and_recv.pl do in one: calls --to through --proxy (the peer
# itself: Net::SIP's outgoing proxy sets the transport), sends the raw PCMU/8000 file --send
# (160 bytes a packet, every 20 ms), writes the payload of every PCMU packet that comes back
# to --record, and hangs up --linger milliseconds after the last packet went out. Every SIP
# message is printed (see CallsProbe.pm). Exits 0 when the call was set up, the file sent and
# the call torn down, 1 else.
#
#   perl_send_recv.pl --leg [::1]:5062 --proxy [::1]:5070 --to sip:answer@[::1]:5070 \
#       --send sent.pcmu --record back.pcmu [--proto udp|tcp|tls --certs DIR]
#       [--linger 500] [--timeout 20]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);
use CallsProbe;

my ($leg, $proxy, $to, $send, $record, $proto, $certs, $linger, $timeout) =
    (undef, undef, undef, undef, undef, 'udp', undef, 500, 20);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'to=s'      => \$to,
    'send=s'    => \$send,
    'record=s'  => \$record,
    'proto=s'   => \$proto,
    'certs=s'   => \$certs,
    'linger=i'  => \$linger,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to URI --send FILE --record FILE\n";
die "--leg, --proxy, --to, --send and --record are required\n"
    unless $leg && $proxy && $to && $send && $record;
$| = 1;

sub fail { print STDERR "perl_send_recv: FAILED: @_\n"; exit 1; }

my $scheme = $proto eq 'tls' ? 'sips' : 'sip';
my $ua = Net::SIP::Simple->new(
    leg            => make_leg($leg, $proto, $certs),
    outgoing_proxy => "$scheme:$proxy" . ($proto eq 'tcp' ? ';transport=tcp' : ''),
    from           => "$scheme:perl\@$leg",
    contact        => $proto eq 'tcp' ? "<sip:perl\@$leg;transport=tcp>" : "$scheme:perl\@$leg",
) or fail("cannot bind $leg");

open(my $out, '>', $record) or fail("cannot write $record: $!");
binmode $out;

my ($sent_all, $peer_bye, $no_answer);
my ($received, $other) = (0, 0);
my $call = $ua->invite(
    $to,
    ring_time  => $timeout,
    init_media => $ua->rtp(
        'send_recv', $send, 1,
        sub {
            my ($payload, $seq, $timestamp, $channel, $payload_type) = @_;
            if ($payload_type != 0) {
                $other++;
                return;
            }
            $received++;
            syswrite($out, $payload);
        },
    ),
    cb_rtp_done => \$sent_all,
    recv_bye    => \$peer_bye,
    cb_noanswer => \$no_answer,
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
fail("no answer from $to") if $no_answer;
print "call up\n";

$ua->loop($timeout, \$sent_all, \$peer_bye);
fail("the callee hung up before the file was sent") if $peer_bye && !$sent_all;
fail("the file was not sent within ${timeout}s") unless $sent_all;
print "file sent\n";
$ua->loop($linger / 1000);

my $stop;
$call->bye(cb_final => \$stop);
$ua->loop(5, \$stop);
fail("no answer to the BYE within 5s") unless $stop;
close $out;
print "received $received RTP packets back ($other of another payload type)\n";
print "call torn down\n";
exit 0;
