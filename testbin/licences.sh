#!/usr/bin/env bash
# Checks that every Go module testbin/ downloads or builds is in the licence
# table with an open-source licence (no AGPL, SSPL, BUSL or other
# non-open-source code is downloaded or built by this project, test tooling
# included).
#   bash testbin/licences.sh check [table] [dir]
#     table: default testbin/licences.tsv; dir: default testbin/
# Prints "licences: N modules, all permitted" and exits 0, or one line per
# problem (naming the module and the file) on stderr and exits 1. Exit 2: usage.
# `cargo test -p operator --test licences` runs it (so does `make test`).
#
# THE RULE: which modules a file names.
#   Files: *.sh, *.bash, *.yaml, *.yml and go.mod under dir (not under
#   node_modules/ or a dot-directory; not this script). Every line counts,
#   comments included, except go.mod lines marked `// indirect`; `\t` and `\n`
#   escapes count as blanks.
#   A module is named where
#   (1) a module path stands right before its version, joined by `@` or by
#       blanks: PATH@VERSION (go install, go mod download, `mod@version`
#       strings) or PATH VERSION (`require` lines of go.mod, `gomod:` lines of
#       otelcol/manifest.yaml, go.mod text a script writes), VERSION being `v`
#       and a digit, `$` or `%` (v1.2.3, v$X, v%s), or a shell expansion ($X,
#       ${X}, $(f)); after `@` any version;
#   (2) or a module path is assigned to a variable whose name ends in
#       "module" (any case): NAME=PATH, NAME="PATH", NAME=${NAME:-PATH...}.
#   A module path: a first element with a dot (a domain), then one or more
#   /elements. One with a placeholder (%s, $x, ${x}) is expanded with the
#   words of a `for x in WORDS; do` on the same line (%s: the line's only
#   loop); one that cannot be expanded is a problem: name modules literally.
#   A package path followed by something else (k8s.io/kubernetes/cmd/$1,
#   -X pkg.Var=v1) names nothing; nor does a module named without a version.
#   So: write each module a script fetches as PATH@VERSION or PATH VERSION,
#   or assign it to a *_module variable; mention a module in prose (a comment
#   about something not used) without its version.
#   A named path is covered by the row of the longest module path that is the
#   path itself or a prefix of it at a "/" (`go install MODULE/cmd/x@v1` is
#   covered by the row of MODULE).
#
# A row of the table: module path (no version) TAB SPDX licence TAB where it
# is used; `#` lines and blank lines are skipped. Problems:
#   - a path named by a file is covered by no row of the table;
#   - a module is listed more than once;
#   - a licence is AGPL*, SSPL*, BUSL*, empty, unknown or NOASSERTION, or not
#     in the allow-list below (a compound `A AND B` / `A OR B` needs each part
#     in it);
#   - a module (listed or named) is marked not-to-use in the Go registry list
#     STOREOPS_GO_PARTIAL_TSV (default: the workplace's go-partial.tsv; that
#     part is skipped, with a note, when the file is absent; set it empty to
#     skip it quietly).
# A listed module that no file names any more gives a note, not a failure.
set -euo pipefail

ALLOWED="Apache-2.0 MIT BSD-2-Clause BSD-3-Clause ISC MPL-2.0"

here=$(dirname "${BASH_SOURCE[0]}")
usage() { echo "usage: $0 check [table] [dir]" >&2; exit 2; }
[[ ${1:-} == check ]] || usage
shift
(($# <= 2)) || usage
table=${1:-$here/licences.tsv}
dir=${2:-$here}
dir=${dir%/}
[[ -n $dir ]] || dir=/
partial=${STOREOPS_GO_PARTIAL_TSV-/work/.library/env/packages/go-partial.tsv}
[[ -f $table ]] || { echo "licences: no table at $table" >&2; exit 2; }
[[ -d $dir ]] || { echo "licences: no directory $dir" >&2; exit 2; }
if [[ -n $partial && ! -f $partial ]]; then
  echo "licences: note: no $partial: the not-to-use check is skipped" >&2
  partial=""
fi

# The files the rule reads, in a stable order, NUL-separated.
files() {
  find "$dir" -mindepth 1 \( -name node_modules -o -name '.*' \) -prune -o -type f \
    \( -name '*.sh' -o -name '*.bash' -o -name '*.yaml' -o -name '*.yml' -o -name go.mod \) \
    ! -name licences.sh -print0 | sort -z
}

files | ALLOWED=$ALLOWED perl -0 -e '
use strict;
use warnings;
my ($table, $dir, $partial) = @ARGV;
my @files = grep { length } split /\0/, do { local $/; <STDIN> // "" };
$/ = "\n";

my $ph   = qr/(?:%s|\$\{[A-Za-z_]\w*\}|\$[A-Za-z_]\w*)/;
my $elem = qr/(?:[A-Za-z0-9._~+-]|$ph)+/;
my $path = qr/(?<![A-Za-z0-9._~+\/])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+(?:\/$elem)++/;
my $ver  = qr/(?:@(?=[A-Za-z0-9\$])|[ \t]+(?=v[0-9\$%]|\$[({A-Za-z_]))/;

my (%named, @problems);    # module -> [file:line, ...]

sub expand {
  my ($p, $line) = @_;
  return ($p) unless $p =~ $ph;
  my @loops;
  while ($line =~ /\bfor[ \t]+([A-Za-z_]\w*)[ \t]+in[ \t]+([^;]*?)[ \t]*;[ \t]*do\b/g) { push @loops, [$1, $2] }
  my ($var) = $p =~ /\$\{?([A-Za-z_]\w*)/;
  my @use = defined $var ? grep { $_->[0] eq $var } @loops : (@loops == 1 ? @loops : ());
  return () unless @use;
  my @words = split /[ \t]+/, $use[0][1];
  return () if !@words || grep { /[\$*?"\x27]/ } @words;
  my @out;
  for my $w (@words) {
    (my $m = $p) =~ s/%s|\$\{[A-Za-z_]\w*\}|\$[A-Za-z_]\w*/$w/g;
    push @out, $m;
  }
  return @out;
}

for my $f (@files) {
  open my $fh, "<", $f or die "licences: cannot read $f: $!\n";
  while (my $line = <$fh>) {
    next if $line =~ m{//[ \t]*indirect\b};
    $line =~ s/\\[tn]/ /g;
    my @found;
    push @found, $1 while $line =~ /($path)$ver/g;
    while ($line =~ /\b([A-Za-z_]\w*)=["\x27]?(?:\$\{\w+:-)?($path)/g) {
      my ($name, $mod) = ($1, $2);
      push @found, $mod if $name =~ /module$/i;
    }
    my $at = "$f:$.";
    for my $p (@found) {
      my @m = expand($p, $line);
      push @problems, "licences: $p: named in $at cannot be expanded into module paths (no for loop over its placeholder on that line): name each module literally" unless @m;
      for my $m (@m) {
        push @{$named{$m}}, $at unless grep { $_ eq $at } @{$named{$m} // []};
      }
    }
  }
  close $fh;
}

my (%rows, @order);    # module -> [[line, licence], ...]
open my $t, "<", $table or die "licences: cannot read $table: $!\n";
while (my $line = <$t>) {
  chomp $line;
  $line =~ s/\r$//;
  next if $line =~ /^\s*(#|$)/;
  my @c = map { s/^\s+|\s+$//gr } split /\t/, $line, -1;
  my ($m, $lic) = ($c[0], $c[1] // "");
  push @order, $m unless $rows{$m};
  push @{$rows{$m}}, [$., $lic];
}
close $t;

my %reg;    # the Go registry list: module -> [status, note]
if ($partial ne "") {
  open my $p, "<", $partial or die "licences: cannot read $partial: $!\n";
  while (my $line = <$p>) {
    chomp $line;
    my @c = split /\t/, $line;
    $reg{$c[0]} = [$c[1], $c[2] // ""] if @c >= 2;
  }
  close $p;
}

# The entry of %$h for the longest module path that is $path or a prefix of
# it at a "/" (go install PKG@VERSION names a package of the module).
sub owner {
  my ($h, $path) = @_;
  for (my $q = $path; $q ne ""; $q =~ s{/?[^/]*$}{}) { return $q if exists $h->{$q} }
  return undef;
}

# The first three places a path is named in, and how many more.
sub places {
  my @at = @{$named{$_[0]}};
  return join(", ", @at[0 .. ($#at < 2 ? $#at : 2)]) . (@at > 3 ? " (and " . (@at - 3) . " more)" : "");
}

my %allowed = map { $_ => 1 } split " ", $ENV{ALLOWED};
my %used;    # table module -> 1 when a named path resolves to it
for my $n (sort keys %named) {
  my $m = owner(\%rows, $n);
  if (defined $m) { $used{$m} = 1; next }
  push @problems, "licences: $n: named in " . places($n) . ", missing from $table";
}
for my $m (@order) {
  my @r = @{$rows{$m}};
  push @problems, "licences: $m: listed " . @r . " times in $table (lines " . join(", ", map { $_->[0] } @r) . ")" if @r > 1;
  push @problems, "licences: $m: $table:$r[0][0]: write the module path alone, without a version or blanks" if $m =~ /[@\s]/;
  for my $r (@r) {
    my ($l, $lic) = @$r;
    my $where = "$table:$l";
    if ($lic =~ /^(|unknown|noassertion|none|\?)$/i) {
      push @problems, "licences: $m: $where: licence is " . ($lic eq "" ? "empty" : "\"$lic\"") . ": read it from the module and write its SPDX id";
      next;
    }
    for my $id (split /\s+(?:AND|OR)\s+|[()]/, $lic) {
      next if $id eq "";
      if ($id =~ /^(AGPL|SSPL|BUSL)/i) {
        push @problems, "licences: $m: $where: licence $id is forbidden (no AGPL, SSPL or BUSL code is downloaded or built)";
      } elsif ($id =~ /^(NOASSERTION|unknown|none)$/i) {
        push @problems, "licences: $m: $where: licence $id is unknown";
      } elsif (!$allowed{$id}) {
        push @problems, "licences: $m: $where: licence $id is not in the allow-list ($ENV{ALLOWED})";
      }
    }
  }
}
# Not-to-use: each row, and each named path that no row covers (by the
# longest prefix listed in the registry list: github.com/x/y/api may have its own row).
for my $m (@order, grep { !defined owner(\%rows, $_) } sort keys %named) {
  my $e = owner(\%reg, $m);
  next unless defined $e && $reg{$e}[0] eq "not-to-use";
  my $where = $rows{$m} ? "$table:$rows{$m}[0][0]" : "named in " . places($m);
  push @problems, "licences: $m: $where: marked not-to-use in $partial" . ($e eq $m ? "" : " ($e)") . " ($reg{$e}[1])";
}
for my $m (@order) {
  print STDERR "licences: note: $m ($table:$rows{$m}[0][0]) is named by no file under $dir: remove the row if it is no longer used\n"
    unless $used{$m};
}

if (@problems) {
  print STDERR "$_\n" for @problems;
  exit 1;
}
print "licences: " . scalar(@order) . " modules, all permitted\n";
' "$table" "$dir" "$partial"
