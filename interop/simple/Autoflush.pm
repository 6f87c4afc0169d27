# Loaded with `perl -I interop/simple -MAutoflush SCRIPT`: makes STDOUT and STDERR unbuffered,
# so that the statistics lines of Net::SIP's example bench/call.pl (run unchanged from the
# Debian package) reach a pipe or file as they are printed, not when a buffer fills.
package Autoflush;
use strict;
use warnings;
use IO::Handle;
STDOUT->autoflush(1);
STDERR->autoflush(1);
1;
