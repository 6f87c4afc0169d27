#!/usr/bin/perl
# The Perl Net::SIP client (Net::SIP::Simple->register, Net::SIP::Endpoint->register)
# against `netsip registrar --min-expires MIN --max-expires MAX`.
#
# usage: net_sip_register.pl REGISTRAR_PORT LOCAL_PORT MIN MAX
#
# UDP only: Net::SIP::Simple->register rewrites a registrar URI with parameters
# (`;transport=tcp`) into `<sip:...;transport=tcp>`, angle brackets included, and sends that
# as the Request-URI, which a registrar must refuse. SIPp covers REGISTER over TCP.
#
# Prints one TAP-like line per check ("ok N - ..." / "not ok N - ...") and exits 0 only when
# every check passed. Everything runs on 127.0.0.1; a global alarm bounds the whole run.

use strict;
use warnings;
use Net::SIP qw(:all);

my ($rport, $lport, $min, $max) = @ARGV;
die "usage: $0 REGISTRAR_PORT LOCAL_PORT MIN MAX\n" unless defined $max;

$SIG{ALRM} = sub { print "not ok - no end within 30 s\n"; exit 2 };
alarm(30);

my $registrar = "sip:127.0.0.1:$rport";
my $from = 'sip:perl@example.com';
my $ua = Net::SIP::Simple->new(
    from      => $from,
    leg       => { proto => 'udp', addr => '127.0.0.1', port => $lport },
    registrar => $registrar,
);
my $contact = "sip:perl\@127.0.0.1:$lport";

my ($n, $failed) = (0, 0);
sub check {
    my ($ok, $what) = @_;
    $n++;
    print(($ok ? "ok" : "not ok"), " $n - $what\n");
    $failed++ unless $ok;
}

# One REGISTER through Net::SIP::Simple; (status, code, expires, packet).
sub simple_register {
    my %args = @_;
    my ($status, %info);
    my $done = 0;
    $ua->register(
        contact  => $contact,
        %args,
        cb_final => sub { ($status, %info) = @_; $done = 1 },
    );
    $ua->loop(5, \$done);
    return ($status // 'TIMEOUT', $info{code}, $info{expires}, $info{packet});
}

# One REGISTER through Net::SIP::Endpoint, with any Contact (or none): (code, packet).
sub endpoint_register {
    my %args = @_;
    my ($code, $packet);
    my $done = 0;
    $ua->{endpoint}->register(
        from      => $from,
        registrar => $registrar,
        %args,
        callback  => sub {
            my ($endpoint, $ctx, $errno, $c, $p) = @_;
            return if defined $c && $c < 200;
            ($code, $packet) = ($c // "errno $errno", $p);
            $done = 1;
        },
    );
    $ua->loop(5, \$done);
    return ($code // 'TIMEOUT', $packet);
}

sub contacts {
    my $p = shift or return ();
    return $p->get_header('contact');
}

# 1. Register asking an hour: granted max_expires.
my ($status, $code, $expires) = simple_register(expires => 3600);
check($status eq 'OK', "REGISTER expires=3600 accepted ($status)");
check(defined $expires && $expires == $max, "expiry capped at $max (got " . ($expires // 'none') . ")");

# 2. Below the minimum: 423, and Min-Expires says the minimum.
my $packet;
($status, $code, undef, $packet) = simple_register(expires => $min - 1);
check($status eq 'FAIL' && ($code // 0) == 423, "REGISTER expires=" . ($min - 1) . " gets 423 (" . ($code // $status) . ")");
my $min_hdr = $packet && $packet->get_header('min-expires');
check(defined $min_hdr && $min_hdr == $min, "Min-Expires: $min (got " . ($min_hdr // 'none') . ")");

# 3. The minimum itself is fine.
($status, $code, $expires) = simple_register(expires => $min);
check($status eq 'OK' && defined $expires && $expires == $min, "REGISTER expires=$min granted $min (" . ($expires // $status) . ")");

# 4. A second contact from another REGISTER; a fetch (no Contact) lists both.
my ($c2, $p2) = endpoint_register(contact => "sip:perl2\@127.0.0.1:$lport", expires => 120);
check($c2 eq '200', "second contact registered ($c2)");
my ($cf, $pf) = endpoint_register(expires => 120);
my @listed = contacts($pf);
check($cf eq '200' && @listed == 2, "fetch lists 2 bindings (" . scalar(@listed) . ": @listed)");

# 5. Contact: * with Expires: 0 removes all; a fetch then lists none.
my ($cs) = endpoint_register(contact => '*', expires => 0);
check($cs eq '200', "Contact: * Expires: 0 accepted ($cs)");
($cf, $pf) = endpoint_register(expires => 120);
@listed = contacts($pf);
check($cf eq '200' && @listed == 0, "fetch after remove-all lists none (@listed)");

# 6. Register and unregister (expires=0) through Net::SIP::Simple.
($status) = simple_register(expires => 60);
check($status eq 'OK', "REGISTER expires=60 accepted ($status)");
($status, $code, $expires, $packet) = simple_register(expires => 0);
check($status eq 'OK' && !contacts($packet), "REGISTER expires=0 removes the binding");

print $failed ? "FAILED: $failed of $n checks\n" : "all $n checks passed\n";
exit($failed ? 1 : 0);
