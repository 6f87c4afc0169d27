package NetsipInterop;
# Helpers shared by the Perl peers of the interop suite.
#
#   use FindBin; use lib "$FindBin::Bin/../lib"; use NetsipInterop qw(make_leg);
#   my $leg = make_leg('[::1]:5070', 'tcp');
#   my $tls = make_leg('127.0.0.1:5071', 'tls', 'target/interop/certs');
use strict;
use warnings;
use Exporter 'import';
use Net::SIP;
use Net::SSLeay;

our @EXPORT_OK = qw(make_leg);

# A Net::SIP::Leg on ADDR ("127.0.0.1:5070" or "[::1]:5070") for PROTO (udp, tcp or tls).
# A TLS leg trusts CERTS/ca.pem and shows CERTS/leg.pem with its key CERTS/leg.key (Net::SIP
# builds the server context of a TLS leg up front, so even a client needs a certificate).
sub make_leg {
    my ($addr, $proto, $certs) = @_;
    $proto ||= 'udp';
    die "proto is udp, tcp or tls, not $proto\n" unless $proto =~ /^(udp|tcp|tls)$/;
    my %tls;
    if ($proto eq 'tls') {
        die "a TLS leg needs the certificate folder\n" unless $certs;
        %tls = (tls => {
            SSL_ca_file   => "$certs/ca.pem",
            SSL_cert_file => "$certs/leg.pem",
            SSL_key_file  => "$certs/leg.key",
            keylog_callback(),
        });
    }
    # The Contact a leg puts into requests and responses it sends: a sip: URI without a
    # transport means UDP (RFC 3263 §4.1), so a TCP leg must say so, or the ACK and the BYE
    # of a call come back over UDP.
    my %contact = $proto eq 'tcp' ? (contact => "sip:$addr;transport=tcp") : ();
    return Net::SIP::Leg->new(addr => $addr, proto => $proto, %tls, %contact);
}

# With NETSIP_TLS_KEYLOG set, the TLS secrets of every session go to that file in the
# SSLKEYLOGFILE format, so that tshark (the suite's judge) can decrypt and check the SIP
# inside. Every TLS session of the suite has a Perl peer at one end.
sub keylog_callback {
    my $file = $ENV{NETSIP_TLS_KEYLOG} or return ();
    return () unless defined &Net::SSLeay::CTX_set_keylog_callback;
    return (SSL_create_ctx_callback => sub {
        my $ctx = shift;
        Net::SSLeay::CTX_set_keylog_callback($ctx, sub {
            my (undef, $line) = @_;
            open(my $fh, '>>', $file) or return;
            print $fh "$line\n";
            close $fh;
        });
    });
}

1;
