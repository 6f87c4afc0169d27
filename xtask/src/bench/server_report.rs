//! The report of a server suite (`registrar`, `proxy`): one row per server under the same
//! SIPp load, as a Markdown table in `target/bench-report/<suite>.md`, bars of CPU per
//! operation in `<suite>.png`, and the table on stdout.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

use super::cpu::CpuTime;

/// What a suite measured, and how to describe it.
#[derive(Debug, Clone)]
pub(crate) struct Suite {
    /// The suite's name: the report files are `<name>.md` and `<name>.png`.
    pub(crate) name: &'static str,
    /// The report's title.
    pub(crate) title: String,
    /// What one operation is, e.g. `REGISTER` or `call`.
    pub(crate) operation: &'static str,
    /// Paragraphs after the machine line: the load, the configurations, the command.
    pub(crate) notes: Vec<String>,
}

/// One server's run.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Who served, e.g. `netsip 0.1.0` or `Kamailio 5.6.3`.
    pub(crate) server: String,
    /// Operations that completed.
    pub(crate) operations: u64,
    /// Operations that did not.
    pub(crate) failed: u64,
    /// SIPp's retransmissions during the run.
    pub(crate) retransmissions: u64,
    /// CPU the server (all its processes) spent during the run.
    pub(crate) cpu: CpuTime,
    /// The SIPp run's wall time.
    pub(crate) wall: Duration,
    /// A floor program (`bench/floor.rs`) rather than a server: what the traffic alone
    /// costs.
    pub(crate) floor: bool,
    /// µs of CPU per operation of every round the server ran, in order (see [`best_of`]);
    /// empty for a single run.
    pub(crate) rounds: Vec<Option<f64>>,
}

/// Runs `run(kind, round)` for every kind in [`ROUNDS`] interleaved rounds (each kind once,
/// then each again) and keeps each kind's cheapest run ([`best_of`]), in the order of
/// `kinds`.
pub(crate) fn in_rounds<K: Copy>(
    kinds: &[K],
    mut run: impl FnMut(K, usize) -> anyhow::Result<Row>,
) -> anyhow::Result<Vec<Row>> {
    let mut runs: Vec<Vec<Row>> = kinds.iter().map(|_| Vec::new()).collect();
    for round in 1..=ROUNDS {
        for (&kind, runs) in kinds.iter().zip(&mut runs) {
            runs.push(run(kind, round)?);
        }
    }
    Ok(runs.into_iter().filter_map(best_of).collect())
}

/// The run of one server that cost the least CPU per operation, with every run's cost in
/// [`Row::rounds`]. Other work on the machine only ever adds to a server's CPU time, so the
/// least of several runs is the best estimate of what the server itself needs; the suites
/// run the servers in interleaved rounds, so that a slow spell of the machine does not fall
/// on one server alone. `None` when `runs` is empty.
pub(crate) fn best_of(runs: Vec<Row>) -> Option<Row> {
    let rounds: Vec<Option<f64>> = runs.iter().map(Row::us_per_op).collect();
    let mut best = runs.into_iter().min_by(|a, b| {
        let cost = |r: &Row| r.us_per_op().unwrap_or(f64::INFINITY);
        cost(a).total_cmp(&cost(b))
    })?;
    best.rounds = rounds;
    Some(best)
}

impl Row {
    /// µs of CPU per completed operation; `None` when none completed.
    pub(crate) fn us_per_op(&self) -> Option<f64> {
        (self.operations > 0).then(|| self.cpu.total().as_secs_f64() * 1e6 / self.operations as f64)
    }

    fn user_us_per_op(&self) -> Option<f64> {
        (self.operations > 0).then(|| self.cpu.user.as_secs_f64() * 1e6 / self.operations as f64)
    }
}

/// How many interleaved rounds the server suites run (see [`best_of`]).
pub(crate) const ROUNDS: usize = 2;

/// What the reports say about the rounds.
pub(crate) fn rounds_note() -> String {
    format!(
        "Rounds: every server runs {ROUNDS} times, in interleaved rounds (each server once, \
         then each again), each time freshly started; the table shows the round that cost \
         the least CPU per operation (other work on a shared machine only ever adds CPU \
         time), and the last column every round's cost."
    )
}

/// The goal of issue 6: netsip needs at most this fraction of Kamailio's CPU per operation.
pub(crate) const GOAL: f64 = 0.5;

/// netsip's CPU per operation over that of row `other`: `rows[0]` is netsip, `rows[1]`
/// Kamailio as packaged (the reference of the goal), further rows other setups.
pub(crate) fn ratio_to(rows: &[Row], other: usize) -> Option<f64> {
    let ours = rows.first()?.us_per_op()?;
    let theirs = rows.get(other)?.us_per_op()?;
    (theirs > 0.0).then(|| ours / theirs)
}

/// netsip's CPU per operation over that of Kamailio as packaged.
pub(crate) fn ratio(rows: &[Row]) -> Option<f64> {
    ratio_to(rows, 1)
}

/// The table: a row per server, one column relative to Kamailio as packaged (`rows[1]`).
pub(crate) fn table(suite: &Suite, rows: &[Row]) -> String {
    let reference = rows.get(1).and_then(Row::us_per_op);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| server | {op}s | failed | retransmissions | CPU ms (user + system) | µs CPU per {op} | × Kamailio | wall s | every round, µs per {op} |",
        op = suite.operation
    );
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for r in rows {
        let per_op = r
            .us_per_op()
            .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}"));
        let relative = match (r.us_per_op(), reference) {
            (Some(v), Some(k)) if k > 0.0 => format!("{:.2}", v / k),
            _ => "n/a".to_owned(),
        };
        let rounds = r
            .rounds
            .iter()
            .map(|v| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}")))
            .collect::<Vec<_>>()
            .join(" / ");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.0} ({:.0} + {:.0}) | {per_op} | {relative} | {:.1} | {rounds} |",
            r.server,
            r.operations,
            r.failed,
            r.retransmissions,
            r.cpu.total().as_secs_f64() * 1e3,
            r.cpu.user.as_secs_f64() * 1e3,
            r.cpu.system.as_secs_f64() * 1e3,
            r.wall.as_secs_f64()
        );
    }
    md
}

/// The verdict on the goal, and how netsip compares with the other rows.
pub(crate) fn verdict(rows: &[Row]) -> String {
    let mut v = match ratio(rows) {
        Some(x) if x <= GOAL => format!(
            "netsip needs {x:.2} × the CPU per operation of Kamailio as packaged: the goal \
             (≤ {GOAL:.2}) is met."
        ),
        Some(x) => format!(
            "netsip needs {x:.2} × the CPU per operation of Kamailio as packaged: the goal \
             (≤ {GOAL:.2}) is not met."
        ),
        None => "No ratio: a server completed no operation.".to_owned(),
    };
    let reference = rows.get(1).and_then(Row::us_per_op);
    for (i, r) in rows.iter().enumerate().skip(2) {
        let Some(x) = ratio_to(rows, i) else { continue };
        match (r.floor, r.us_per_op(), reference) {
            (true, Some(f), Some(k)) if k > 0.0 => {
                let _ = write!(
                    v,
                    " The floor ({}) needs {:.2} × Kamailio's CPU per operation: the kernel's \
                     share, below which no server goes here; netsip needs {x:.2} × the floor.",
                    r.server,
                    f / k
                );
            }
            _ => {
                let _ = write!(v, " Against {}: {x:.2} ×.", r.server);
            }
        }
    }
    v
}

/// The whole Markdown report.
pub(crate) fn markdown(suite: &Suite, rows: &[Row], machine: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", suite.title);
    let _ = writeln!(md, "Machine: {machine}.\n");
    for n in &suite.notes {
        let _ = writeln!(md, "{n}\n");
    }
    md.push_str(&table(suite, rows));
    let _ = writeln!(md, "\n{}", verdict(rows));
    md
}

/// Writes `<suite>.md` and `<suite>.png` under `out` and prints the table.
pub(crate) fn write(out: &Path, suite: &Suite, rows: &[Row], machine: &str) -> Result<()> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let md_path = out.join(format!("{}.md", suite.name));
    fs::write(&md_path, markdown(suite, rows, machine))
        .with_context(|| format!("cannot write {}", md_path.display()))?;
    let png = out.join(format!("{}.png", suite.name));
    chart(&png, suite, rows)?;
    println!("\n{}", table(suite, rows));
    println!("{}\n", verdict(rows));
    eprintln!(
        "xtask: bench: wrote {} and {}",
        md_path.display(),
        png.display()
    );
    Ok(())
}

/// [`write`] to `target/bench-report/`, then fails when `problems` (operations that did not
/// succeed) is not empty: the report is written either way.
pub(crate) fn write_checked(suite: &Suite, rows: &[Row], problems: &[String]) -> Result<()> {
    write(
        &super::target_dir().join("bench-report"),
        suite,
        rows,
        &super::machine(),
    )?;
    if !problems.is_empty() {
        anyhow::bail!(
            "bench {}: not every {} succeeded:\n  {}",
            suite.name,
            suite.operation,
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// Bar colours: user time, system time.
const USER: RGBColor = RGBColor(31, 119, 180);
const SYSTEM: RGBColor = RGBColor(174, 199, 232);

/// Bars of µs CPU per operation, user time below system time, with the goal as a dashed line.
fn chart(path: &Path, suite: &Suite, rows: &[Row]) -> Result<()> {
    let text = super::load_font();
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    bars(&root, suite, rows, text).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    suite: &Suite,
    rows: &[Row],
    text: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (left, right, top, bottom) = (90, 30, 60, 80);
    let (plot_w, plot_h) = (w - left - right, h - top - bottom);
    let max = rows.iter().filter_map(Row::us_per_op).fold(0.0, f64::max);
    if max <= 0.0 || rows.is_empty() {
        return Ok(());
    }
    let step = super::grid_step(max * 1.15);
    let top_value = (max * 1.15 / step).ceil() * step;
    let y = |v: f64| top + plot_h - (v / top_value * f64::from(plot_h)).round() as i32;
    let font = |size: u32| ("sans-serif", size).into_font();
    let grey = RGBColor(200, 200, 200);

    let mut v = 0.0;
    while v <= top_value + step / 2.0 {
        area.draw(&PathElement::new(
            vec![(left, y(v)), (left + plot_w, y(v))],
            grey,
        ))?;
        if text {
            area.draw(&Text::new(format!("{v:.0} µs"), (8, y(v) - 8), font(15)))?;
        }
        v += step;
    }
    if text {
        area.draw(&Text::new(
            format!(
                "CPU per {} (user + system), lower is better",
                suite.operation
            ),
            (left, 16),
            font(20),
        ))?;
    }

    let slot = plot_w / rows.len() as i32;
    let bar_w = (slot / 2).min(160);
    for (i, r) in rows.iter().enumerate() {
        let (Some(total), Some(user)) = (r.us_per_op(), r.user_us_per_op()) else {
            continue;
        };
        let x = left + i as i32 * slot + (slot - bar_w) / 2;
        area.draw(&Rectangle::new(
            [(x, y(user)), (x + bar_w, y(0.0))],
            USER.filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x, y(total)), (x + bar_w, y(user))],
            SYSTEM.filled(),
        ))?;
        if text {
            area.draw(&Text::new(
                format!("{total:.1} µs"),
                (x + 4, y(total) - 20),
                font(16),
            ))?;
            area.draw(&Text::new(
                r.server.clone(),
                (x, top + plot_h + 10),
                font(16),
            ))?;
        }
    }

    // The goal: half of Kamailio's as packaged (the second row).
    if let Some(k) = rows.get(1).and_then(Row::us_per_op) {
        let gy = y(k * GOAL);
        let mut x = left;
        while x < left + plot_w {
            area.draw(&PathElement::new(
                vec![(x, gy), ((x + 10).min(left + plot_w), gy)],
                RED.stroke_width(2),
            ))?;
            x += 18;
        }
        if text {
            area.draw(&Text::new(
                format!("goal: {GOAL:.1} × {}", rows[1].server),
                (left + plot_w - 330, gy - 20),
                font(14),
            ))?;
        }
    }

    // Legend.
    let ly = h - 30;
    for (i, (colour, name)) in [(USER, "user"), (SYSTEM, "system")].iter().enumerate() {
        let lx = left + i as i32 * 140;
        area.draw(&Rectangle::new(
            [(lx, ly), (lx + 16, ly + 16)],
            colour.filled(),
        ))?;
        if text {
            area.draw(&Text::new(name.to_string(), (lx + 22, ly), font(16)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(server: &str, operations: u64, user_ms: u64, system_ms: u64) -> Row {
        Row {
            server: server.to_owned(),
            operations,
            failed: 0,
            retransmissions: 0,
            cpu: CpuTime {
                user: Duration::from_millis(user_ms),
                system: Duration::from_millis(system_ms),
            },
            wall: Duration::from_millis(10_050),
            floor: false,
            rounds: Vec::new(),
        }
    }

    #[test]
    fn rounds_interleave_and_keep_each_kinds_cheapest_run() {
        let mut order = Vec::new();
        let rows = in_rounds(&["a", "b"], |kind, round| {
            order.push(format!("{kind}{round}"));
            // a costs less in its second round, b in its first.
            let user = match (kind, round) {
                ("a", 1) | ("b", 2) => 600,
                _ => 300,
            };
            Ok(row(kind, 30000, user, 0))
        })
        .unwrap();
        assert_eq!(order, ["a1", "b1", "a2", "b2"]);
        let costs: Vec<_> = rows
            .iter()
            .map(|r| (r.server.as_str(), r.us_per_op()))
            .collect();
        assert_eq!(costs, [("a", Some(10.0)), ("b", Some(10.0))]);
        assert_eq!(rows[0].rounds, vec![Some(20.0), Some(10.0)]);
        // A failing run stops the rounds.
        assert!(in_rounds(&["a"], |_, _| Err(anyhow::anyhow!("no SIPp"))).is_err());
    }

    #[test]
    fn the_best_round_counts_and_every_round_is_shown() {
        let runs = vec![
            row("netsip", 30000, 400, 200),
            row("netsip", 30000, 300, 150),
            row("netsip", 0, 0, 0),
        ];
        let best = best_of(runs).unwrap();
        assert_eq!(best.us_per_op(), Some(15.0));
        assert_eq!(best.rounds, vec![Some(20.0), Some(15.0), None]);
        let t = table(&suite(), &[best, row("Kamailio", 30000, 600, 600)]);
        assert!(
            t.contains("| 15.0 | 0.38 | 10.1 | 20.0 / 15.0 / n/a |"),
            "{t}"
        );
        assert!(best_of(Vec::new()).is_none());
    }

    #[test]
    fn the_floor_row_is_set_against_kamailio_and_netsip_against_it() {
        let mut floor = row("floor", 1000, 0, 50);
        floor.floor = true;
        let rows = [
            row("netsip", 1000, 70, 40),
            row("Kamailio", 1000, 100, 100),
            floor,
        ];
        let v = verdict(&rows);
        assert!(v.contains("is not met"), "{v}");
        assert!(
            v.contains("The floor (floor) needs 0.25 × Kamailio's CPU per operation"),
            "{v}"
        );
        assert!(v.contains("netsip needs 2.20 × the floor"), "{v}");
    }

    fn suite() -> Suite {
        Suite {
            name: "registrar",
            title: "Registrar".to_owned(),
            operation: "REGISTER",
            notes: vec!["30000 distinct users.".to_owned()],
        }
    }

    #[test]
    fn cpu_per_operation_and_ratio() {
        let rows = [
            row("netsip", 30000, 300, 150),
            row("Kamailio", 30000, 600, 600),
        ];
        assert_eq!(rows[0].us_per_op(), Some(15.0));
        assert_eq!(rows[1].us_per_op(), Some(40.0));
        assert_eq!(ratio(&rows), Some(0.375));
        assert!(verdict(&rows).contains("is met"), "{}", verdict(&rows));
        let slow = [
            row("netsip", 30000, 900, 300),
            row("Kamailio", 30000, 600, 600),
        ];
        assert!(verdict(&slow).contains("is not met"));
    }

    #[test]
    fn no_operation_means_no_ratio() {
        let rows = [row("netsip", 0, 300, 150), row("Kamailio", 30000, 600, 600)];
        assert_eq!(rows[0].us_per_op(), None);
        assert_eq!(ratio(&rows), None);
        assert!(verdict(&rows).starts_with("No ratio"));
        assert_eq!(ratio(&rows[1..]), None);
        assert!(
            table(&suite(), &rows).contains("| netsip | 0 | 0 | 0 | 450 (300 + 150) | n/a | n/a |")
        );
    }

    #[test]
    fn table_rows_are_relative_to_kamailio() {
        let rows = [
            row("netsip", 30000, 300, 150),
            row("Kamailio", 30000, 600, 600),
        ];
        let t = table(&suite(), &rows);
        assert!(t.starts_with("| server | REGISTERs | failed |"), "{t}");
        assert!(
            t.contains("| netsip | 30000 | 0 | 0 | 450 (300 + 150) | 15.0 | 0.38 | 10.1 |  |"),
            "{t}"
        );
        assert!(t.contains("| Kamailio | 30000 | 0 | 0 | 1200 (600 + 600) | 40.0 | 1.00 | 10.1 |"));
        let md = markdown(&suite(), &rows, "a test CPU, 2 cores");
        assert!(md.starts_with(
            "# Registrar\n\nMachine: a test CPU, 2 cores.\n\n30000 distinct users.\n"
        ));
        assert!(md.ends_with("is met.\n"), "{md}");
    }

    #[test]
    fn further_rows_are_compared_but_the_goal_is_against_the_second() {
        let rows = [
            row("netsip", 30000, 300, 150),
            row("Kamailio", 30000, 600, 600),
            row("Kamailio tuned", 30000, 200, 100),
        ];
        let v = verdict(&rows);
        assert!(v.contains("0.38 ×") && v.contains("is met."), "{v}");
        assert!(v.ends_with("Against Kamailio tuned: 1.50 ×."), "{v}");
        let t = table(&suite(), &rows);
        assert!(
            t.contains("| Kamailio tuned | 30000 | 0 | 0 | 300 (200 + 100) | 10.0 | 0.25 |"),
            "{t}"
        );
    }

    #[test]
    fn report_files_are_written() {
        let out = std::env::temp_dir().join(format!("xtask-report-{}", std::process::id()));
        let rows = [
            row("netsip", 30000, 300, 150),
            row("Kamailio", 30000, 600, 600),
        ];
        write(&out, &suite(), &rows, "m").unwrap();
        assert!(fs::read_to_string(out.join("registrar.md"))
            .unwrap()
            .contains("| Kamailio |"));
        let png = fs::read(out.join("registrar.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        fs::remove_dir_all(&out).unwrap();
    }
}
