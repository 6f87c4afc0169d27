//! `cargo xtask bench calls`: how many parallel calls with RTP echo a caller and an answerer
//! hold, ours against the Perl Net::SIP's, side by side.
//!
//! Four pairs, each caller against each answerer:
//!
//! | caller | answerer |
//! | --- | --- |
//! | `netsip bench` | `netsip answer --echo` |
//! | `netsip bench` | Net::SIP's `bench/listen.pl` (the example, unchanged) |
//! | `interop/simple/perl_bench_call.pl` (Net::SIP's `bench/call.pl`, made to work) | `netsip answer --echo` |
//! | `perl_bench_call.pl` | `bench/listen.pl` |
//!
//! For each pair the number of parallel calls steps up through [`STEPS`]; at each step a fresh
//! answerer takes the calls, the caller sets them all up, lets them settle for a second (both
//! callers' default --warmup), then sends a 20 ms packet per call (50 a second, as G.711
//! does) for [`MEASURE`] and counts what the echo brings back and how late. A pair stops at the first step it does not hold, or when the suite's time runs out
//! ([`BUDGET`]).
//!
//! `netsip answer` runs with `--no-inband-dtmf`: listen.pl looks for no DTMF either, and the
//! tone detector would otherwise run on every echoed packet. `netsip bench` never runs it on
//! its probes.
//!
//! A step is *held* when every call was set up and the loss is under 1%, where loss is what
//! did not come back of what a real-time stream should have carried: `1 - received /
//! (calls × 50/s × seconds)`. That counts both packets lost on the way and packets a caller
//! too busy to keep its 20 ms pace never sent (the Perl caller falls behind long before the
//! network drops anything). The tools' own counts (sequence gaps) are in the table too.
//!
//! Writes `target/bench-report/calls.md` (the machine, every step of every pair, and a
//! summary: the most calls each pair held and the delay there) and `calls.png` (loss and
//! average delay over the number of calls).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;

use super::floor::{self, EchoFloor};
use crate::interop::child::{tail, Running};
use crate::interop::ports::Ports;

/// The call counts each pair steps through.
const STEPS: [u32; 6] = [100, 200, 400, 800, 1600, 3200];

/// How long each step measures, once every call is up.
const MEASURE: Duration = Duration::from_secs(5);

/// The whole suite stops stepping up after about this long (a step already started
/// finishes); each pair gets an equal share of what is left when it starts.
const BUDGET: Duration = Duration::from_secs(480);

/// How long a caller may take to set its calls up.
const SETUP_LIMIT: Duration = Duration::from_secs(20);

/// Streams the floor (`cargo xtask floor echo`) echoes to measure what a packet costs the
/// kernel.
const FLOOR_CALLS: usize = 800;

/// The goal of issue 7: this many times the parallel calls of Net::SIP's own pair.
const GOAL: u32 = 20;

/// Packets per second per call: one per 20 ms.
const PACKETS_PER_SECOND: f64 = 50.0;

/// Loss at or above this fails a step.
const MAX_LOSS: f64 = 0.01;

/// Where Debian puts Net::SIP's example programs.
const PERL_EXAMPLES: &str = "/usr/share/doc/libnet-sip-perl/examples";

/// Who places the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Netsip,
    Perl,
}

/// Who answers and echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answerer {
    Netsip,
    Perl,
}

impl Caller {
    fn name(self) -> &'static str {
        match self {
            Self::Netsip => "netsip bench",
            Self::Perl => "Net::SIP call.pl",
        }
    }
}

impl Answerer {
    fn name(self) -> &'static str {
        match self {
            Self::Netsip => "netsip answer --echo",
            Self::Perl => "Net::SIP listen.pl",
        }
    }
}

/// The pairs, Net::SIP's own first: every ratio divides by what it held, so it runs while
/// the whole budget is still there.
const PAIRS: [(Caller, Answerer); 4] = [
    (Caller::Perl, Answerer::Perl),
    (Caller::Perl, Answerer::Netsip),
    (Caller::Netsip, Answerer::Perl),
    (Caller::Netsip, Answerer::Netsip),
];

/// What a caller's `total` line says.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Total {
    /// Calls set up.
    up: u32,
    /// Calls attempted.
    calls: u32,
    /// Seconds measured.
    seconds: f64,
    /// Packets sent while measuring.
    sent: u64,
    /// Packets that came back.
    received: u64,
    /// Sequence gaps the caller saw.
    lost: u64,
    /// Packets the caller ignored (out of order, duplicates).
    ignored: u64,
    /// Round-trip delay: average, minimum, maximum (ms); absent when nothing came back.
    delay: Option<(f64, f64, f64)>,
}

impl Total {
    /// Parses `total calls=N/M seconds=S sent=X received=Y lost=Z ignored=W
    /// delay(ms)=AVG/MIN/MAX` (the delay part is optional).
    fn parse(line: &str) -> Result<Self> {
        let rest = line
            .trim()
            .strip_prefix("total ")
            .ok_or_else(|| anyhow!("not a total line: {line:?}"))?;
        let mut t = Self {
            up: 0,
            calls: 0,
            seconds: 0.0,
            sent: 0,
            received: 0,
            lost: 0,
            ignored: 0,
            delay: None,
        };
        let three = |v: &str| -> Result<(f64, f64, f64)> {
            let p: Vec<f64> = v
                .split('/')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .with_context(|| format!("bad triple {v:?}"))?;
            match p.as_slice() {
                [a, b, c] => Ok((*a, *b, *c)),
                _ => bail!("bad triple {v:?}"),
            }
        };
        for field in rest.split_whitespace() {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| anyhow!("bad field {field:?} in {line:?}"))?;
            let num = |v: &str| v.parse::<u64>().with_context(|| format!("bad {key}={v:?}"));
            match key {
                "calls" => {
                    let (up, all) = value
                        .split_once('/')
                        .ok_or_else(|| anyhow!("bad calls={value:?}"))?;
                    t.up = up.parse().context("calls set up")?;
                    t.calls = all.parse().context("calls attempted")?;
                }
                "seconds" => t.seconds = value.parse().context("seconds")?,
                "sent" => t.sent = num(value)?,
                "received" => t.received = num(value)?,
                "lost" => t.lost = num(value)?,
                "ignored" => t.ignored = num(value)?,
                "delay(ms)" => t.delay = Some(three(value)?),
                _ => {}
            }
        }
        if t.calls == 0 || t.seconds <= 0.0 {
            bail!("total line without calls or seconds: {line:?}");
        }
        Ok(t)
    }

    /// What did not come back of what `calls` real-time streams carry in `seconds`.
    fn loss(&self) -> f64 {
        let expected = f64::from(self.calls) * PACKETS_PER_SECOND * self.seconds;
        (1.0 - self.received as f64 / expected).max(0.0)
    }
}

/// One step of one pair.
#[derive(Debug, Clone)]
struct Step {
    caller: Caller,
    answerer: Answerer,
    calls: u32,
    /// The caller's totals, or why there are none.
    outcome: Result<Total, String>,
    /// CPU seconds (user + system) the caller and the answerer spent in the step.
    cpu: Option<(f64, f64)>,
    /// How many times it ran (a step not held gets a second try).
    tries: u8,
}

impl Step {
    fn held(&self) -> bool {
        matches!(&self.outcome, Ok(t) if t.up == t.calls && t.loss() < MAX_LOSS)
    }

    /// Whether a step not held deserves a second try: every call was up, so the loss may
    /// come from other work on the machine stalling the senders. Calls that could not be
    /// set up (the slowest steps, 20 s of waiting) would not turn out otherwise.
    fn is_marginal(&self) -> bool {
        matches!(&self.outcome, Ok(t) if t.up == t.calls)
    }

    /// CPU µs of caller and answerer together per packet that came back.
    fn cpu_per_packet(&self) -> Option<f64> {
        let (c, a) = self.cpu?;
        let t = self.outcome.as_ref().ok()?;
        (t.received > 0).then(|| (c + a) * 1e6 / t.received as f64)
    }

    /// Whether this run of a step went better than `other`: held, or less loss, or any
    /// totals at all.
    fn better_than(&self, other: &Self) -> bool {
        match (&self.outcome, &other.outcome) {
            _ if self.held() != other.held() => self.held(),
            (Ok(a), Ok(b)) => a.up > b.up || (a.up == b.up && a.loss() < b.loss()),
            (Ok(_), Err(_)) => true,
            _ => false,
        }
    }
}

/// The programs of the suite.
struct Programs {
    netsip: PathBuf,
    listen_pl: PathBuf,
    bench_call_pl: PathBuf,
    autoflush: PathBuf,
}

/// Runs the suite and writes its report.
pub(crate) fn run() -> Result<()> {
    crate::peers::ensure(&[crate::peers::NET_SIP])?;
    crate::run(crate::cargo().args(["build", "--release", "-p", "netsip"]))?;
    let out = super::target_dir().join("bench-report");
    let work = out.join("calls");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("cannot clear {}", work.display()))?;
    }
    fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let simple = crate::root().join("interop").join("simple");
    let programs = Programs {
        netsip: super::target_dir().join("release").join("netsip"),
        listen_pl: perl_example("bench/listen.pl", &work)?,
        bench_call_pl: simple.join("perl_bench_call.pl"),
        autoflush: simple,
    };
    if !programs.netsip.is_file() {
        bail!("{} is missing after the build", programs.netsip.display());
    }

    let load_before = load_average();
    let started = Instant::now();
    let mut steps = Vec::new();
    for (i, (caller, answerer)) in PAIRS.into_iter().enumerate() {
        // What is left of the budget, shared by the pairs still to run.
        let left = BUDGET.saturating_sub(started.elapsed());
        let budget = left / u32::try_from(PAIRS.len() - i).unwrap_or(1);
        steps.extend(run_pair(&programs, caller, answerer, budget, &work)?);
    }

    // The floor: the same packets through a caller and an echo that do nothing else.
    let xtask = super::netsip::release_xtask()?;
    eprintln!("xtask: bench calls: floor echo, {FLOOR_CALLS} streams");
    let floor = floor::echo_in_child(&xtask, FLOOR_CALLS, MEASURE).map_err(|e| format!("{e:#}"));

    let md = out.join("calls.md");
    let machine = format!(
        "{}; load average {load_before} before the run, {} after (other work on the machine \
         competes for the same cores)",
        super::machine(),
        load_average()
    );
    let report = report(&steps, &machine, &floor);
    fs::write(&md, &report).with_context(|| format!("cannot write {}", md.display()))?;
    let png = out.join("calls.png");
    chart(&png, &steps)?;
    println!("{report}");
    eprintln!(
        "xtask: bench calls: wrote {} and {} in {:.0}s",
        md.display(),
        png.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Steps one pair up through [`STEPS`] until a step is not held or `budget` is spent; after
/// a step that is not held, one more halfway between it and the last held one.
fn run_pair(
    programs: &Programs,
    caller: Caller,
    answerer: Answerer,
    budget: Duration,
    work: &Path,
) -> Result<Vec<Step>> {
    let started = Instant::now();
    let mut steps: Vec<Step> = Vec::new();
    let mut last_held: Option<u32> = None;
    let mut plan: Vec<u32> = STEPS.to_vec();
    plan.reverse();
    while let Some(calls) = plan.pop() {
        if started.elapsed() > budget {
            eprintln!(
                "xtask: bench calls: time budget spent, {} -> {} stops before {calls} calls",
                caller.name(),
                answerer.name()
            );
            break;
        }
        let dir = work.join(format!(
            "{}-{}-{calls}",
            short(caller.name()),
            short(answerer.name())
        ));
        let mut step = Step {
            caller,
            answerer,
            calls,
            outcome: Err("not run".to_owned()),
            cpu: None,
            tries: 0,
        };
        // Other work on the machine can spoil one run: a step not held with every call up
        // gets a second try (in its own folder), and the better of the two counts.
        for attempt in 1..=2u8 {
            let dir = if attempt == 1 {
                dir.clone()
            } else {
                dir.with_extension("try2")
            };
            fs::create_dir_all(&dir)?;
            let (outcome, cpu) = match run_step(programs, caller, answerer, calls, &dir) {
                Ok((total, cpu)) => (Ok(total), cpu),
                Err(e) => (Err(format!("{e:#}")), None),
            };
            let candidate = Step {
                outcome,
                cpu,
                tries: attempt,
                ..step.clone()
            };
            eprintln!("xtask: bench calls: {}", describe(&candidate));
            if attempt == 1 || candidate.better_than(&step) {
                step = candidate;
            } else {
                step.tries = attempt;
            }
            if step.held() || !step.is_marginal() || started.elapsed() > budget {
                break;
            }
        }
        let held = step.held();
        steps.push(step);
        if held {
            last_held = Some(calls);
            continue;
        }
        plan.clear();
        // One step halfway, when the gap is worth it and the step was not a halfway one.
        if let Some(low) = last_held {
            let mid = (low + calls) / 2 / 10 * 10;
            if mid > low && STEPS.contains(&calls) {
                plan.push(mid);
            }
        }
    }
    Ok(steps)
}

/// A file name part: `netsip bench` -> `netsip-bench`.
fn short(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or(name)
        .replace("::", "-")
        .to_lowercase()
        + "-"
        + name
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .trim_start_matches('-')
            .trim_end_matches(".pl")
}

/// One line about a step, for the progress output.
fn describe(step: &Step) -> String {
    let head = format!(
        "{} -> {}, {} calls",
        step.caller.name(),
        step.answerer.name(),
        step.calls
    );
    match &step.outcome {
        Ok(t) => format!(
            "{head}: {}/{} up, {} of {} expected packets back ({:.2}% loss), delay {} ms: {}",
            t.up,
            t.calls,
            t.received,
            (f64::from(t.calls) * PACKETS_PER_SECOND * t.seconds).round(),
            t.loss() * 100.0,
            t.delay.map_or("n/a".to_owned(), |(avg, _, max)| format!(
                "{avg:.2} avg, {max:.1} max"
            )),
            if step.held() { "held" } else { "not held" }
        ),
        Err(e) => format!("{head}: failed: {e}"),
    }
}

/// The Perl example at `path` under [`PERL_EXAMPLES`] (unpacked into `work` when Debian
/// compressed it).
fn perl_example(path: &str, work: &Path) -> Result<PathBuf> {
    let plain = Path::new(PERL_EXAMPLES).join(path);
    if plain.is_file() {
        return Ok(plain);
    }
    let gz = Path::new(PERL_EXAMPLES).join(format!("{path}.gz"));
    if gz.is_file() {
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(&gz)
            .output()
            .context("cannot run gzip")?;
        if out.status.success() {
            let file = work.join(path.replace('/', "_"));
            fs::write(&file, out.stdout)?;
            return Ok(file);
        }
    }
    bail!(
        "Net::SIP's example {path} is not under {PERL_EXAMPLES} (package {})",
        crate::peers::NET_SIP.package
    )
}

/// One step: a fresh answerer, the caller with `calls` calls; the caller's totals and the
/// CPU seconds both spent (when `/proc` tells).
fn run_step(
    programs: &Programs,
    caller: Caller,
    answerer: Answerer,
    calls: u32,
    dir: &Path,
) -> Result<(Total, Option<(f64, f64)>)> {
    let mut ports = Ports::default();
    let port = ports.free()?;
    let cmd = match answerer {
        Answerer::Netsip => {
            let mut c = Command::new(&programs.netsip);
            c.args(["answer", "--listen", &format!("udp:127.0.0.1:{port}")])
                .args(["--from", &format!("sip:echo@127.0.0.1:{port}")])
                .arg("--echo")
                // listen.pl looks for no DTMF either.
                .arg("--no-inband-dtmf")
                .env("RUST_LOG", "warn");
            c
        }
        Answerer::Perl => {
            let mut c = Command::new("perl");
            c.arg("-I")
                .arg(&programs.autoflush)
                .arg("-MAutoflush")
                .arg(&programs.listen_pl)
                .args(["-L", &format!("127.0.0.1:{port}")])
                .args(["-F", &format!("sip:echo@127.0.0.1:{port}")]);
            c
        }
    };
    let mut answer = Running::spawn("answerer", cmd, dir)?;
    wait_listening(&mut answer, Duration::from_secs(10))?;

    let to = format!("sip:echo@127.0.0.1:{port}");
    let leg = ports.free()?;
    let seconds = MEASURE.as_secs_f64().to_string();
    let cmd = match caller {
        Caller::Netsip => {
            let mut c = Command::new(&programs.netsip);
            c.args(["bench", "--to", &to])
                .args(["--listen", &format!("udp:127.0.0.1:{leg}")])
                .args(["--calls", &calls.to_string(), "--duration", &seconds])
                .env("RUST_LOG", "warn");
            c
        }
        Caller::Perl => {
            let mut c = Command::new("perl");
            c.arg(&programs.bench_call_pl)
                .args(["--to", &to, "--proxy", &format!("127.0.0.1:{port}")])
                .args(["--leg", &format!("127.0.0.1:{leg}")])
                .args(["--calls", &calls.to_string(), "--duration", &seconds])
                .args(["--setup-timeout", &SETUP_LIMIT.as_secs().to_string()]);
            c
        }
    };
    let mut call = Running::spawn("caller", cmd, dir)?;
    let deadline = Instant::now() + SETUP_LIMIT + MEASURE + Duration::from_secs(20);
    // The last readings before the caller exits: a process gone has no /proc entry.
    let mut cpu = None;
    while !call.has_exited() && Instant::now() < deadline {
        let caller_cpu = call.id().and_then(cpu_seconds);
        let answer_cpu = answer.id().and_then(cpu_seconds);
        if let (Some(c), Some(a)) = (caller_cpu, answer_cpu) {
            cpu = Some((c, a));
        }
        thread::sleep(Duration::from_millis(100));
    }
    let end = call.wait(deadline);
    drop(answer);
    let out = call.stdout();
    match out.lines().find(|l| l.starts_with("total ")) {
        Some(line) => Ok((Total::parse(line)?, cpu)),
        None => {
            let err = call.stderr();
            let why = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("nothing on stderr")
                .trim();
            bail!("{} printed no total ({end:?}): {why}", caller.name())
        }
    }
}

/// User plus system CPU seconds of process `pid` so far (`/proc/<pid>/stat`, fields 14 and
/// 15, in clock ticks of 1/100 s as Linux reports them to user space).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Waits until the answerer prints that it listens (`listening on` for ours, `Listening...`
/// for listen.pl).
fn wait_listening(p: &mut Running, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if p.stdout()
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("listening"))
        {
            return Ok(());
        }
        if p.has_exited() {
            bail!(
                "{} exited before listening:\n{}",
                p.name(),
                tail(&p.stderr(), 5)
            );
        }
        if Instant::now() >= deadline {
            bail!("{} did not listen within {limit:?}", p.name());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The most calls a pair held, and its totals there.
fn best(steps: &[Step], caller: Caller, answerer: Answerer) -> Option<(u32, Total)> {
    steps
        .iter()
        .filter(|s| s.caller == caller && s.answerer == answerer && s.held())
        .filter_map(|s| s.outcome.as_ref().ok().map(|t| (s.calls, *t)))
        .max_by_key(|(calls, _)| *calls)
}

/// The Markdown report.
fn report(steps: &[Step], machine: &str, floor: &Result<EchoFloor, String>) -> String {
    let mut md = String::new();
    md.push_str("# Parallel calls with RTP echo: netsip and Net::SIP\n\n");
    let _ = writeln!(md, "Machine: {machine}.\n");
    let _ = writeln!(
        md,
        "`cargo xtask bench calls`: each caller against each answerer, on 127.0.0.1, the \
         call count stepping through {} until a step is not held. A step measures {} s, \
         after 1 s of warm-up, once every call is up; every call sends a 160-byte PCMU \
         packet every 20 ms carrying its sequence number and send time, the answerer echoes \
         it. **Held**: every call set up \
         and loss under {}%, where loss is `1 - received / (calls x 50/s x seconds)`: packets \
         lost on the way and packets a caller too busy to keep its pace never sent. \
         \"gaps\" are the sequence gaps the caller itself counted. Counts and average \
         delay cover the measurement; `netsip bench`'s minimum and maximum delay cover each \
         call's whole life, setup included (sip-simple's probe counters do not restart). Delay is the round trip \
         (caller -> answerer -> caller), ms. CPU is user + system time of each process over \
         the whole step (setup, measurement, hang-up). A step not held with every call \
         up runs a second time (other work on this shared machine can stall a sender and \
         spoil one run); the better run counts. \"CPU µs / packet\" is the CPU time of \
         caller and answerer together over the step per packet that came back: a measure of \
         cost that the machine's load hardly changes.\n",
        STEPS.map(|s| s.to_string()).join(", "),
        MEASURE.as_secs(),
        MAX_LOSS * 100.0
    );

    md.push_str("## Most parallel calls held\n\n");
    md.push_str(
        "| caller | answerer | calls held | delay avg / max ms | CPU µs / packet | × Net::SIP |\n",
    );
    md.push_str("|---|---|---:|---:|---:|---:|\n");
    let perl = best(steps, Caller::Perl, Answerer::Perl).map(|(c, _)| c);
    for (caller, answerer) in PAIRS {
        let ran = steps
            .iter()
            .any(|s| s.caller == caller && s.answerer == answerer);
        if !ran {
            continue;
        }
        let (held, delay) = match best(steps, caller, answerer) {
            Some((calls, t)) => (
                calls.to_string(),
                t.delay.map_or("n/a".to_owned(), |(avg, _, max)| {
                    format!("{avg:.2} / {max:.1}")
                }),
            ),
            None => (format!("< {}", STEPS[0]), "n/a".to_owned()),
        };
        let ratio = match (best(steps, caller, answerer), perl) {
            (Some((c, _)), Some(p)) if p > 0 => format!("{:.1}", f64::from(c) / f64::from(p)),
            _ => "n/a".to_owned(),
        };
        let cost = steps
            .iter()
            .filter(|s| s.caller == caller && s.answerer == answerer && s.held())
            .max_by_key(|s| s.calls)
            .and_then(Step::cpu_per_packet)
            .map_or("n/a".to_owned(), |us| format!("{us:.1}"));
        let _ = writeln!(
            md,
            "| {} | {} | {held} | {delay} | {cost} | {ratio} |",
            caller.name(),
            answerer.name()
        );
    }
    let top = STEPS[STEPS.len() - 1];
    let _ = writeln!(
        md,
        "\n\"× Net::SIP\" divides by what Net::SIP's own pair (call.pl -> listen.pl) held. A \
         pair that held its last step ({top} calls) or ran out of the suite's {} s may hold \
         more.\n",
        BUDGET.as_secs()
    );
    md.push_str(&ceiling(floor, perl));

    md.push_str("## Every step\n\n");
    md.push_str(
        "| caller | answerer | calls | set up | sent | received | loss % | gaps | delay avg / min / max ms | CPU s caller / answerer | held |\n",
    );
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for s in steps {
        let _ = match &s.outcome {
            Ok(t) => writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} |",
                s.caller.name(),
                s.answerer.name(),
                s.calls,
                t.up,
                t.sent,
                t.received,
                t.loss() * 100.0,
                t.lost,
                t.delay.map_or("n/a".to_owned(), |(avg, min, max)| format!(
                    "{avg:.2} / {min:.2} / {max:.1}"
                )),
                s.cpu
                    .map_or("n/a".to_owned(), |(c, a)| format!("{c:.2} / {a:.2}")),
                held_cell(s)
            ),
            Err(e) => writeln!(
                md,
                "| {} | {} | {} | failed: {} | | | | | | | {} |",
                s.caller.name(),
                s.answerer.name(),
                s.calls,
                e.lines().next().unwrap_or("").replace('|', "/"),
                held_cell(s)
            ),
        };
    }
    md
}

/// The section on the machine's ceiling: what the floor's packets cost, how many calls that
/// allows at most, and how that compares with the goal of [`GOAL`] × Net::SIP's calls.
fn ceiling(floor: &Result<EchoFloor, String>, perl: Option<u32>) -> String {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let mut md = String::from("## The machine's ceiling\n\n");
    let f = match floor {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(md, "The floor did not run: {e}\n");
            return md;
        }
    };
    let (Some(us), Some(calls)) = (f.us_per_packet(), f.ceiling(cores)) else {
        let _ = writeln!(md, "The floor brought no packet back ({} sent).\n", f.sent);
        return md;
    };
    let _ = write!(
        md,
        "`cargo xtask floor echo {FLOOR_CALLS} {secs}` (`xtask/src/bench/floor.rs`): a caller \
         and an echo with a socket per call and one epoll each, sending {FLOOR_CALLS} \
         streams of 172-byte packets every 20 ms, no SIP, no RTP, nothing per packet but \
         `sendto` and `recvfrom`. It needed **{us:.1} µs of CPU per echoed packet** (caller \
         and echo together; {} sent, {} back), nearly all of it the kernel's. At that cost \
         the {cores} cores of this machine carry at most **{calls} calls** with nothing \
         else running: the ceiling of any implementation here.",
        f.sent,
        f.received,
        secs = MEASURE.as_secs()
    );
    if let Some(p) = perl.filter(|p| *p > 0) {
        let goal = p.saturating_mul(GOAL);
        let verdict = if u64::from(goal) > calls {
            "above the ceiling: no implementation reaches it on this machine"
        } else {
            "under the ceiling"
        };
        let _ = write!(
            md,
            " Net::SIP's pair held {p} calls, so the goal ({GOAL} ×) asks for {goal}: \
             {verdict}."
        );
    }
    md.push_str("\n\n");
    md
}

/// The "held" cell: yes or no, and whether it took a second try.
fn held_cell(s: &Step) -> String {
    let verdict = if s.held() { "yes" } else { "no" };
    if s.tries > 1 {
        format!("{verdict} (best of {})", s.tries)
    } else {
        verdict.to_owned()
    }
}

/// Line colours, one per pair.
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
];

/// Writes the PNG: loss (top) and average delay (bottom) over the number of calls, a line per
/// pair, calls on a log scale.
fn chart(path: &Path, steps: &[Step]) -> Result<()> {
    let text = super::load_font();
    let root = BitMapBackend::new(path, (960, 900)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    let (top, bottom) = root.split_vertically(450);
    let loss = |t: &Total| t.loss() * 100.0;
    let delay = |t: &Total| t.delay.map_or(0.0, |(avg, _, _)| avg);
    panel(
        &top,
        steps,
        "loss % (held: under 1%)",
        &loss,
        Some(MAX_LOSS * 100.0),
        text,
    )
    .and_then(|()| {
        panel(
            &bottom,
            steps,
            "average round-trip delay, ms",
            &delay,
            None,
            text,
        )
    })
    .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// One panel: a line per pair of `value` over the call counts that ran, and a dashed line
/// at `threshold`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    steps: &[Step],
    title: &str,
    value: &dyn Fn(&Total) -> f64,
    threshold: Option<f64>,
    text: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let points: Vec<(usize, Vec<(f64, f64)>)> = PAIRS
        .iter()
        .enumerate()
        .map(|(i, (c, a))| {
            let mut line: Vec<(f64, f64)> = steps
                .iter()
                .filter(|s| s.caller == *c && s.answerer == *a)
                .filter_map(|s| {
                    s.outcome
                        .as_ref()
                        .ok()
                        .map(|t| (f64::from(s.calls), value(t)))
                })
                .collect();
            // The halfway step runs last: draw in the order of the call counts.
            line.sort_by(|p, q| p.0.total_cmp(&q.0));
            (i, line)
        })
        .collect();
    let max_y = points
        .iter()
        .flat_map(|(_, l)| l.iter().map(|(_, y)| *y))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    let max_x = f64::from(STEPS[STEPS.len() - 1]) * 1.2;
    let mut chart = ChartBuilder::on(area);
    chart.margin(20).x_label_area_size(40).y_label_area_size(60);
    if text {
        chart.caption(title, ("sans-serif", 20));
    }
    let mut chart =
        chart.build_cartesian_2d((f64::from(STEPS[0]) * 0.8..max_x).log_scale(), 0.0..max_y)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("parallel calls")
        .x_labels(STEPS.len())
        .x_label_formatter(&|x| format!("{x:.0}"));
    if !text {
        mesh.disable_x_mesh().disable_y_mesh();
    }
    mesh.draw()?;
    if let Some(t) = threshold {
        let x0 = f64::from(STEPS[0]) * 0.8;
        chart.draw_series(DashedLineSeries::new(
            vec![(x0, t), (max_x, t)],
            6,
            4,
            BLACK.stroke_width(1),
        ))?;
    }
    for (i, line) in points {
        if line.is_empty() {
            continue;
        }
        let colour = COLOURS[i];
        let (c, a) = PAIRS[i];
        let series = chart.draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))?;
        if text {
            series
                .label(format!("{} -> {}", c.name(), a.name()))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart.draw_series(line.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_lines_of_both_callers_parse() {
        let t = Total::parse(
            "total calls=50/50 seconds=5.00 sent=12501 received=12490 lost=3 ignored=1 \
             delay(ms)=0.38/0.08/8.91",
        )
        .unwrap();
        assert_eq!(
            (t.up, t.calls, t.sent, t.received, t.lost, t.ignored),
            (50, 50, 12501, 12490, 3, 1)
        );
        assert_eq!(t.delay, Some((0.38, 0.08, 8.91)));
        let none = Total::parse("total calls=3/10 seconds=5.00 sent=0 received=0 lost=0 ignored=0")
            .unwrap();
        assert_eq!(none.delay, None);
        assert!(Total::parse("    1 pkt=2501/0/0").is_err());
        assert!(Total::parse("total calls=x/1 seconds=1").is_err());
        assert!(Total::parse("total calls=1/1 seconds=1 delay(ms)=1/2").is_err());
    }

    #[test]
    fn loss_counts_what_a_real_time_stream_should_have_brought_back() {
        let mut t =
            Total::parse("total calls=10/10 seconds=2 sent=1000 received=1000 lost=0 ignored=0")
                .unwrap();
        assert_eq!(t.loss(), 0.0);
        // A caller that sent only half its packets lost half, whatever came back of them.
        t.received = 500;
        assert!((t.loss() - 0.5).abs() < 1e-9);
        // More than expected (an interval a little longer than measured) is no loss.
        t.received = 1010;
        assert_eq!(t.loss(), 0.0);
    }

    #[test]
    fn a_step_is_held_only_with_every_call_up_and_loss_under_one_percent() {
        let step = |line: &str| Step {
            caller: Caller::Netsip,
            answerer: Answerer::Perl,
            calls: 10,
            outcome: Total::parse(line).map_err(|e| e.to_string()),
            cpu: None,
            tries: 1,
        };
        assert!(step("total calls=10/10 seconds=1 sent=500 received=496 lost=0 ignored=0").held());
        assert!(!step("total calls=10/10 seconds=1 sent=500 received=494 lost=0 ignored=0").held());
        assert!(!step("total calls=9/10 seconds=1 sent=500 received=500 lost=0 ignored=0").held());
        assert!(!Step {
            outcome: Err("crashed".into()),
            ..step("total calls=10/10 seconds=1 sent=500 received=500 lost=0 ignored=0")
        }
        .held());
    }

    #[test]
    fn the_better_of_two_runs_is_kept() {
        let run = |line: Option<&str>| Step {
            caller: Caller::Perl,
            answerer: Answerer::Perl,
            calls: 10,
            outcome: line.map_or(Err("failed".into()), |l| {
                Total::parse(l).map_err(|e| e.to_string())
            }),
            cpu: None,
            tries: 1,
        };
        let held = run(Some(
            "total calls=10/10 seconds=1 sent=500 received=500 lost=0 ignored=0",
        ));
        let lossy = run(Some(
            "total calls=10/10 seconds=1 sent=500 received=400 lost=0 ignored=0",
        ));
        let lossier = run(Some(
            "total calls=10/10 seconds=1 sent=500 received=300 lost=0 ignored=0",
        ));
        let fewer_up = run(Some(
            "total calls=9/10 seconds=1 sent=500 received=500 lost=0 ignored=0",
        ));
        let failed = run(None);
        assert!(held.better_than(&lossy) && !lossy.better_than(&held));
        assert!(lossy.better_than(&lossier) && !lossier.better_than(&lossy));
        assert!(lossier.better_than(&fewer_up));
        assert!(fewer_up.better_than(&failed) && !failed.better_than(&fewer_up));
        assert!(!failed.better_than(&failed));
        assert_eq!(
            held_cell(&Step {
                tries: 2,
                ..lossy.clone()
            }),
            "no (best of 2)"
        );
        assert_eq!(held_cell(&held), "yes");
        // Every call up: the loss may be the machine's; calls not set up would stay so.
        assert!(lossy.is_marginal() && lossier.is_marginal());
        assert!(!fewer_up.is_marginal() && !failed.is_marginal());
        let cpu = Step {
            cpu: Some((0.3, 0.2)),
            ..held.clone()
        };
        assert_eq!(cpu.cpu_per_packet(), Some(1000.0));
        assert_eq!(held.cpu_per_packet(), None);
    }

    #[test]
    fn the_chart_is_a_png_with_every_pair() {
        let step = |calls: u32, caller, answerer, received: u64| Step {
            caller,
            answerer,
            calls,
            outcome: Ok(Total {
                up: calls,
                calls,
                seconds: 5.0,
                sent: u64::from(calls) * 250,
                received,
                lost: 0,
                ignored: 0,
                delay: Some((f64::from(calls) / 100.0, 0.1, 3.0)),
            }),
            cpu: None,
            tries: 1,
        };
        let mut steps = Vec::new();
        for (c, a) in PAIRS {
            for calls in [100, 200, 400, 300] {
                let lost = if calls >= 400 { 5000 } else { 0 };
                steps.push(step(calls, c, a, u64::from(calls) * 250 - lost));
            }
        }
        let path = std::env::temp_dir().join(format!("calls-chart-{}.png", std::process::id()));
        chart(&path, &steps).unwrap();
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        assert!(png.len() > 10_000, "{} bytes", png.len());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn cpu_time_is_read_for_a_live_process_only() {
        let own = cpu_seconds(std::process::id()).unwrap();
        assert!(own >= 0.0);
        assert_eq!(cpu_seconds(u32::MAX), None);
        assert_eq!(load_average().split(' ').count(), 3);
    }

    #[test]
    fn the_report_has_the_summary_and_every_step() {
        let ok = |calls: u32, caller, answerer| Step {
            caller,
            answerer,
            calls,
            outcome: Ok(Total {
                up: calls,
                calls,
                seconds: 5.0,
                sent: u64::from(calls) * 250,
                received: u64::from(calls) * 250,
                lost: 0,
                ignored: 0,
                delay: Some((0.5, 0.1, 3.0)),
            }),
            cpu: Some((1.0, 0.5)),
            tries: 1,
        };
        let steps = vec![
            ok(10, Caller::Netsip, Answerer::Netsip),
            ok(400, Caller::Netsip, Answerer::Netsip),
            ok(10, Caller::Perl, Answerer::Perl),
            ok(50, Caller::Perl, Answerer::Perl),
            Step {
                caller: Caller::Perl,
                answerer: Answerer::Perl,
                calls: 100,
                outcome: Err("no total | at all\nsecond line".into()),
                cpu: None,
                tries: 2,
            },
        ];
        let floor = Ok(EchoFloor {
            sent: 40_000,
            received: 40_000,
            cpu: Duration::from_millis(400),
        });
        let md = report(&steps, "a machine", &floor);
        assert!(md.contains("Machine: a machine."));
        assert!(
            md.contains("| netsip bench | netsip answer --echo | 400 | 0.50 / 3.0 | 15.0 | 8.0 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| Net::SIP call.pl | Net::SIP listen.pl | 50 | 0.50 / 3.0 | 120.0 | 1.0 |"
            ),
            "{md}"
        );
        assert!(md.contains("| 100 | failed: no total / at all |"), "{md}");
        assert!(!md.contains("second line"));
        assert!(md.contains("**10.0 µs of CPU per echoed packet**"), "{md}");
        assert!(
            md.contains("the goal (20 ×) asks for 1000: under the ceiling."),
            "{md}"
        );
        let md = report(&steps, "a machine", &Err("no mio".to_owned()));
        assert!(md.contains("The floor did not run: no mio"), "{md}");
    }

    #[test]
    fn a_goal_above_the_ceiling_is_called_so() {
        // 100 µs a packet: 200 calls per core at most, far below 20 × 1000.
        let floor = Ok(EchoFloor {
            sent: 1000,
            received: 1000,
            cpu: Duration::from_millis(100),
        });
        let md = ceiling(&floor, Some(1000));
        assert!(md.contains("asks for 20000: above the ceiling"), "{md}");
    }
}
