//! CPU time of a server and every process it forked, read from `/proc`.
//!
//! A server's cost is the user and system time of its process (all threads: the process line
//! of `/proc/<pid>/stat` sums them, dead threads included) plus the same of every descendant
//! (Kamailio forks its workers and timers), plus what reaped children left in the parents'
//! `cutime`/`cstime`. Read once before and once after a load run, the difference is what the
//! run cost, startup excluded.

use std::collections::HashMap;
use std::fs;
use std::ops::Sub;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// User and system CPU time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    /// Time spent running the program's own code.
    pub(crate) user: Duration,
    /// Time the kernel spent on its behalf (sockets, memory).
    pub(crate) system: Duration,
}

impl CpuTime {
    /// User plus system time.
    pub(crate) fn total(self) -> Duration {
        self.user + self.system
    }
}

impl Sub for CpuTime {
    type Output = Self;

    /// The time spent between two readings (`later - earlier`), never negative.
    fn sub(self, earlier: Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The fields of `/proc/<pid>/stat` the reading needs, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    ppid: u32,
    /// utime + cutime: own user time and that of waited-for children.
    user_ticks: u64,
    /// stime + cstime.
    system_ticks: u64,
}

/// Parses one `/proc/<pid>/stat` line (see proc(5)); `None` when it is not one.
///
/// The command name (field 2) is in parentheses and may itself hold spaces or parentheses,
/// so the fields are counted from its last `)`.
fn parse_stat(line: &str) -> Option<Stat> {
    let (_, rest) = line.rsplit_once(')')?;
    // Fields from 3 (state) on; ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some(Stat {
        ppid: u32::try_from(field(4)?).ok()?,
        user_ticks: field(14)?.checked_add(field(16)?)?,
        system_ticks: field(15)?.checked_add(field(17)?)?,
    })
}

/// Every process of the machine: pid → its stat. Processes that end while being read are
/// left out.
fn all_processes() -> Result<HashMap<u32, Stat>> {
    let mut all = HashMap::new();
    for entry in fs::read_dir("/proc").context("cannot list /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = fs::read_to_string(entry.path().join("stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            all.insert(pid, stat);
        }
    }
    Ok(all)
}

/// `root` and all its descendants among `all`.
fn tree(all: &HashMap<u32, Stat>, root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, stat) in all {
        children.entry(stat.ppid).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        if !all.contains_key(&pid) || found.contains(&pid) {
            continue;
        }
        found.push(pid);
        todo.extend(children.get(&pid).into_iter().flatten());
    }
    found
}

/// The pids of `root` and every process below it, `root` first.
pub(crate) fn process_tree(root: u32) -> Result<Vec<u32>> {
    let all = all_processes()?;
    if !all.contains_key(&root) {
        bail!("process {root} is not running");
    }
    Ok(tree(&all, root))
}

/// The CPU time used so far by `root` and every process below it.
pub(crate) fn tree_cpu_time(root: u32, ticks_per_second: u64) -> Result<CpuTime> {
    let all = all_processes()?;
    if !all.contains_key(&root) {
        bail!("process {root} is not running: no CPU time to read");
    }
    let (mut user, mut system) = (0u64, 0u64);
    for pid in tree(&all, root) {
        let stat = all[&pid];
        user = user.saturating_add(stat.user_ticks);
        system = system.saturating_add(stat.system_ticks);
    }
    Ok(CpuTime {
        user: ticks(user, ticks_per_second),
        system: ticks(system, ticks_per_second),
    })
}

/// Runs `work` and returns the CPU time `root`'s tree spent meanwhile, with `work`'s result.
pub(crate) fn during<T>(
    root: u32,
    ticks_per_second: u64,
    work: impl FnOnce() -> Result<T>,
) -> Result<(CpuTime, T)> {
    let before = tree_cpu_time(root, ticks_per_second)?;
    let result = work()?;
    let after = tree_cpu_time(root, ticks_per_second)?;
    Ok((after - before, result))
}

fn ticks(n: u64, per_second: u64) -> Duration {
    Duration::from_nanos(n.saturating_mul(1_000_000_000) / per_second.max(1))
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), the unit of `/proc/<pid>/stat`.
pub(crate) fn ticks_per_second() -> Result<u64> {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("cannot run getconf CLK_TCK")?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim().parse::<u64>() {
        Ok(n) if out.status.success() && n > 0 => Ok(n),
        _ => bail!("getconf CLK_TCK printed {:?}", text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line (kamailio's main process), fields 14..17 changed to recognisable values.
    const LINE: &str = "14967 (kamailio) S 1 14958 14958 0 -1 4194624 3011 240 0 0 \
                        12 7 3 2 20 0 1 0 2871235 157564928 2280 18446744073709551615 \
                        1 1 0 0 0 0 0 4096 1 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_line_gives_parent_and_times_with_reaped_children() {
        assert_eq!(
            parse_stat(LINE),
            Some(Stat {
                ppid: 1,
                user_ticks: 12 + 3,
                system_ticks: 7 + 2
            })
        );
    }

    #[test]
    fn command_names_with_spaces_and_parentheses_do_not_shift_fields() {
        let odd = LINE.replace("(kamailio)", "(a) b (c)");
        assert_eq!(parse_stat(&odd), parse_stat(LINE));
    }

    #[test]
    fn truncated_or_garbage_lines_are_refused() {
        assert_eq!(parse_stat("14967 (kamailio) S 1 2 3"), None);
        assert_eq!(parse_stat("no parenthesis at all"), None);
        assert_eq!(parse_stat(&LINE.replace(" 12 7 ", " x 7 ")), None);
    }

    fn stat(ppid: u32) -> Stat {
        Stat {
            ppid,
            user_ticks: 0,
            system_ticks: 0,
        }
    }

    #[test]
    fn tree_holds_descendants_and_nothing_else() {
        let all: HashMap<u32, Stat> = [
            (1, stat(0)),
            (10, stat(1)),
            (11, stat(10)),
            (12, stat(10)),
            (13, stat(12)),
            (20, stat(1)),
        ]
        .into();
        let mut t = tree(&all, 10);
        assert_eq!(t[0], 10);
        t.sort_unstable();
        assert_eq!(t, [10, 11, 12, 13]);
        assert!(tree(&all, 99).is_empty());
    }

    #[test]
    fn differences_never_go_negative() {
        let a = CpuTime {
            user: Duration::from_millis(30),
            system: Duration::from_millis(10),
        };
        let b = CpuTime {
            user: Duration::from_millis(20),
            system: Duration::from_millis(15),
        };
        assert_eq!(
            a - b,
            CpuTime {
                user: Duration::from_millis(10),
                system: Duration::ZERO
            }
        );
        assert_eq!((a - b).total(), Duration::from_millis(10));
    }

    #[test]
    fn this_process_is_found_and_has_spent_time() {
        let me = std::process::id();
        assert_eq!(process_tree(me).unwrap()[0], me);
        let hz = ticks_per_second().unwrap();
        // Spin until the tick-granular counters move (a few ticks at most).
        let (spent, x) = during(me, hz, || {
            let start = std::time::Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(200) {
                x = x.wrapping_mul(31).wrapping_add(1);
            }
            Ok(x)
        })
        .unwrap();
        assert_ne!(x, 1);
        assert!(spent.total() > Duration::ZERO, "{spent:?}");
        assert!(tree_cpu_time(u32::MAX, hz).is_err());
        assert!(during(u32::MAX, hz, || Ok(())).is_err());
    }

    #[test]
    fn ticks_convert_to_time() {
        assert_eq!(ticks(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks(5, 0), Duration::from_secs(5));
    }
}
