#!/usr/bin/perl
# A caller played by the Perl Net::SIP that puts the call on hold and resumes it, twice, with
# Net::SIP::Simple::Call's reinvite and a new SDP each time (the o= version counted up):
#
#   up        the first INVITE (sendrecv)
#   hold      re-INVITE with a=sendonly                          (RFC 3264 §8.4)
#   resume    re-INVITE with sendrecv again
#   hold0     re-INVITE with c=0.0.0.0, the RFC 2543 hold that Net::SIP's call_on_hold sends
#   resume0   re-INVITE with the real address again
#
# Silence (PCMU) goes out all the time; each phase lasts --phase seconds and ends with a line
# "phase NAME: received N" (RTP packets that came back in it). Every SIP message is printed
# (see CallsProbe.pm), so the answers to the re-INVITEs can be checked. Exits 0 when every
# re-INVITE got a 2xx and the call was torn down, 1 else. IPv4 only (c=0.0.0.0).
#
#   perl_hold.pl --leg 127.0.0.1:5062 --proxy 127.0.0.1:5070 --to sip:answer@127.0.0.1:5070
#       [--phase 1] [--timeout 10]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", $FindBin::Bin;
use Getopt::Long;
use Net::SIP;
use NetsipInterop qw(make_leg);
use CallsProbe;

my ($leg, $proxy, $to, $phase, $timeout) = (undef, undef, undef, 1, 10);
GetOptions(
    'leg=s'     => \$leg,
    'proxy=s'   => \$proxy,
    'to=s'      => \$to,
    'phase=f'   => \$phase,
    'timeout=i' => \$timeout,
) or die "usage: $0 --leg IP:PORT --proxy IP:PORT --to URI [--phase S]\n";
die "--leg, --proxy and --to are required\n" unless $leg && $proxy && $to;
$| = 1;

sub fail { print STDERR "perl_hold: FAILED: @_\n"; exit 1; }

my $ua = Net::SIP::Simple->new(
    leg            => make_leg($leg, 'udp'),
    outgoing_proxy => "sip:$proxy",
    from           => "sip:perl\@$leg",
) or fail("cannot bind $leg");

my $received = 0;
my ($peer_bye, $no_answer);
my $call = $ua->invite(
    $to,
    ring_time   => $timeout,
    init_media  => $ua->rtp('send_recv', sub { "\xff" x 160 }, 0, sub { $received++ }),
    recv_bye    => \$peer_bye,
    cb_noanswer => \$no_answer,
) or fail("invite $to: " . ($ua->error || 'no answer'));
fail("invite $to: " . $call->error) if $call->error;
fail("no answer from $to") if $no_answer;
print "call up\n";

sub phase_done {
    my $name = shift;
    $ua->loop($phase);
    fail("the callee hung up during phase $name") if $peer_bye;
    print "phase $name: received $received\n";
    $received = 0;
}
phase_done('up');

# Our first SDP, as the text each re-INVITE starts from.
my $first = $call->{param}{_sdp_saved} || $call->{param}{sdp}
    or fail('no SDP of our own after the call was set up');
$first = $first->as_string;
my $version = 0;

for my $step (
    [ hold    => sub { $_[0] . "a=sendonly\r\n" } ],
    [ resume  => sub { $_[0] } ],
    [ hold0   => sub { my $s = shift; $s =~ s{^c=IN IP4 \S+}{c=IN IP4 0.0.0.0}mg; $s } ],
    [ resume0 => sub { $_[0] } ],
) {
    my ($name, $edit) = @$step;
    $version++;
    (my $text = $first) =~ s{^(o=\S+ \S+ )(\d+)}{$1 . ($2 + $version)}me;
    $text = $edit->($text);
    my $done;
    # _sdp_saved: Net::SIP would send the SDP it saved before, not this one.
    $call->reinvite(
        _sdp_saved => undef,
        sdp        => Net::SIP::SDP->new($text),
        cb_final   => \$done,
    );
    $ua->loop(5, \$done);
    fail("re-INVITE for $name: " . ($done || 'no final response within 5s'))
        unless ($done || '') eq 'OK';
    print "re-INVITE $name answered\n";
    $received = 0;
    phase_done($name);
}

my $stop;
$call->bye(cb_final => \$stop);
$ua->loop(5, \$stop);
fail("no answer to the BYE within 5s") unless $stop;
print "call torn down\n";
exit 0;
