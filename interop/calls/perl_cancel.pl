#!/usr/bin/perl
# A caller played by the Perl Net::SIP that gives up: calls --to, waits for the callee to
# ring (180), waits --after seconds more and cancels with Net::SIP::Simple::Call's cancel. The
# INVITE must end with 487 Request Terminated and the CANCEL get its 200 (RFC 3261 §9.2);
# every SIP message is printed (see CallsProbe.pm). Exits 0 when the INVITE ended with 487,
# 1 else (answered, refused otherwise, or no final response).
#
#   perl_cancel.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5070 --to sip:answer@127.0.0.1:5070
#       [--after 1]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);
use CallsProbe;

my ($leg, $proxy, $to, $after) = (undef, undef, undef, 1);
GetOptions(
    'leg=s'   => \$leg,
    'proxy=s' => \$proxy,
    'to=s'    => \$to,
    'after=f' => \$after,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to URI [--after S]\n";
die "--leg, --proxy and --to are required\n" unless $leg && $proxy && $to;
$| = 1;

sub fail { print STDERR "perl_cancel: FAILED: @_\n"; exit 1; }

my $ua = Net::SIP::Simple->new(
    leg            => make_leg($leg, 'udp'),
    outgoing_proxy => "sip:$proxy",
    from           => "sip:perl\@$leg",
) or fail("cannot bind $leg");

my ($ringing, $final);
my $call = $ua->invite(
    $to,
    init_media     => $ua->rtp('send_recv', sub { "\xff" x 160 }, 0),
    cb_preliminary => sub {
        my (undef, $code) = @_;
        $ringing = $code if $code >= 180;
    },
    # With cb_final, invite returns at once; the code of the final response lands here.
    cb_final => sub {
        my ($status, undef, %info) = @_;
        $final = $info{code} || $status;
    },
) or fail("invite $to: " . ($ua->error || 'failed'));
$ua->loop(5, \$ringing, \$final);
fail("the callee answered $final before ringing") if $final;
fail("no 180 within 5s") unless $ringing;
print "ringing ($ringing)\n";
$ua->loop($after, \$final);
fail("the callee answered $final while we waited to cancel") if $final;

my $cancelled;
$call->cancel(cb_final => \$cancelled);
print "cancel sent\n";
$ua->loop(5, \$final);
# The 200 to the CANCEL may come after the 487: wait for it too.
$ua->loop(5, \$cancelled) unless $cancelled;
$ua->loop(0.3);
fail("no final response to the INVITE within 5s of the CANCEL") unless $final;
print "INVITE ended with $final\n";
fail("the INVITE ended with $final, not 487") unless $final eq '487';
exit 0;
