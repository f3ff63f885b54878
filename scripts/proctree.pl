#!/usr/bin/perl
# Sample a process tree for the benchmarks.
#
#   perl scripts/proctree.pl ROOT INTERVAL [COMMS]
#
# Until process ROOT ends (or is a zombie waiting to be reaped), every
# INTERVAL seconds print one line "UPTIME RSS_KB CPU_TICKS": the seconds
# of /proc/uptime, then the summed RSS (kB) and utime + stime (clock
# ticks) of ROOT and its descendants.  COMMS, a space-separated list of command names, restricts the sums to
# those processes; without it (or when empty), every process counts but
# the shells and /usr/bin/time between ROOT and the tools.
#
# One process reads /proc itself: a pipeline forked for every sample
# cost 25 ms of CPU a sample on a machine where fork and exec are slow,
# a quarter of a core taken from the tool being measured.
use strict;
use warnings;
use POSIX ();

my ($root, $interval, $comms) = @ARGV;
die "usage: proctree.pl ROOT INTERVAL [COMMS]\n"
	unless defined $interval && $root =~ /^[0-9]+$/ && $interval > 0;
my %only = map { $_ => 1 } split ' ', $comms // '';
my $pagekb = POSIX::sysconf(POSIX::_SC_PAGESIZE()) / 1024;
$| = 1;

for (;;) {
	my (%state, %ppid, %name, %ticks, %rss);
	opendir(my $d, '/proc') or die "proctree.pl: /proc: $!\n";
	for my $pid (grep { /^[0-9]+$/ } readdir $d) {
		open(my $f, '<', "/proc/$pid/stat") or next;
		my $s = <$f>;
		close $f;
		next unless defined $s;
		# the command name is in parentheses and may hold anything
		my $o = index($s, '(');
		my $c = rindex($s, ')');
		my @f = split ' ', substr($s, $c + 2);
		$name{$pid} = substr($s, $o + 1, $c - $o - 1);
		$state{$pid} = $f[0];
		$ppid{$pid} = $f[1];
		$ticks{$pid} = $f[11] + $f[12];
		$rss{$pid} = $f[21];
	}
	closedir $d;
	last unless defined $state{$root} && $state{$root} ne 'Z';
	my %tree = ($root => 1);
	for (my $grew = 1; $grew;) {
		$grew = 0;
		for my $p (keys %ppid) {
			next if $tree{$p} || !$tree{$ppid{$p}};
			$tree{$p} = 1;
			$grew = 1;
		}
	}
	my ($kb, $t) = (0, 0);
	for my $p (keys %tree) {
		if (%only) {
			next unless $only{$name{$p}};
		} else {
			next if $name{$p} =~ /^(sh|dash|bash|time)$/;
		}
		$kb += $rss{$p} * $pagekb;
		$t += $ticks{$p};
	}
	open(my $u, '<', '/proc/uptime') or die "proctree.pl: /proc/uptime: $!\n";
	my ($up) = split ' ', scalar <$u>;
	close $u;
	print "$up $kb $t\n";
	select(undef, undef, undef, $interval);
}
