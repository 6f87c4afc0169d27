package CallsProbe;
# Makes every Net::SIP::Leg of the process print each SIP message it receives and sends, one
# line each, so that the interop scenarios of xtask/src/interop/calls.rs can check what
# crossed the wire:
#
#   recv request INVITE
#   sent response 487 INVITE
#   recv response 200 INVITE sdp c=127.0.0.1 port=30000 pt=0,101 dir=recvonly te=101
#
# The "sdp" part (only for messages with an SDP body) gives the first audio stream: its
# address (media c= or session c=), port, payload types, direction (sendrecv when none is
# written) and the payload type of telephone-event (te=-: none).
#
#   use FindBin; use lib "$FindBin::Bin"; use CallsProbe;
#
# Net::SIP's legs are restricted hashes (fields), which cannot be re-blessed into a subclass:
# the two methods are wrapped in place instead, for every leg of the process.
use strict;
use warnings;
use Net::SIP;

{
    no warnings 'redefine';
    my $receive = \&Net::SIP::Leg::receive;
    my $deliver = \&Net::SIP::Leg::deliver;
    # receive is Net::SIP's hook for every packet a leg read: (packet, from) in and out.
    *Net::SIP::Leg::receive = sub {
        my @got = $receive->(@_);
        report('recv', $got[0]) if $got[0];
        return @got;
    };
    *Net::SIP::Leg::deliver = sub {
        my (undef, $packet) = @_;
        report('sent', $packet) if $packet;
        return $deliver->(@_);
    };
}

sub report {
    my ($way, $packet) = @_;
    my $what = $packet->is_request
        ? 'request ' . $packet->method
        : 'response ' . $packet->code . ' ' . $packet->method;
    my $body = ($packet->as_parts)[3];
    my $sdp = sdp_summary(scalar($packet->get_header('content-type')), $body);
    print "$way $what" . ($sdp ? " sdp $sdp" : '') . "\n";
}

# "c=ADDR port=P pt=A,B dir=D te=T" of the first m=audio of BODY, or '' without one.
sub sdp_summary {
    my ($type, $body) = @_;
    return '' unless $body && ($type || 'application/sdp') =~ m{application/sdp}i;
    my ($session_c, $media_c, $port, $pts, $dir, $te, $in_audio, $seen);
    for my $line (split /\r?\n/, $body) {
        if ($line =~ m{^m=(\w+)\s+(\d+)\S*\s+\S+\s*(.*)}) {
            last if $seen;
            $in_audio = $1 eq 'audio';
            next unless $in_audio;
            ($seen, $port, $pts) = (1, $2, join(',', split(' ', $3)));
        } elsif ($line =~ m{^c=IN\s+IP[46]\s+(\S+)}) {
            if ($in_audio) { $media_c = $1 } elsif (!$seen) { $session_c = $1 }
        } elsif ($in_audio && $line =~ m{^a=(sendrecv|sendonly|recvonly|inactive)\s*$}) {
            $dir = $1;
        } elsif ($in_audio && $line =~ m{^a=rtpmap:(\d+)\s+telephone-event/}i) {
            $te = $1;
        }
    }
    return '' unless $seen;
    my $c = $media_c // $session_c // '-';
    return "c=$c port=$port pt=$pts dir=" . ($dir // 'sendrecv') . ' te=' . ($te // '-');
}

1;
