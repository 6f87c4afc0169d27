//! `cargo xtask bench [SUITE...]`: side-by-side benchmarks, reported under
//! `target/bench-report/`.
//!
//! Suites (all of them when none is named):
//! - `parser`: `crates/sip-packet/benches/parse.rs`, sip-packet against `rsip` and
//!   `ezk-sip-types` on an INVITE, a 200 OK and a REGISTER. Writes `parser.md` (a table of
//!   median ns per message, messages per second and ratio to ours, and the machine it ran on)
//!   and `parser.png` (bars of messages per second).
//! - `registrar`, `proxy`: SIPp load against `netsip registrar` / `netsip proxy` and Kamailio
//!   in the same run, CPU time per operation of each (see `bench/registrar.rs`,
//!   `bench/proxy.rs`); `registrar.md`/`.png`, `proxy.md`/`.png`.
//!
//! Criterion runs with 1 s of warm-up and 3 s of measurement per benchmark, which keeps the
//! suite to a couple of minutes; the numbers are read back from criterion's
//! `<target>/criterion/<group>/<function>/new/estimates.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;

mod calls;
mod cpu;
pub(crate) mod floor;
mod kamailio;
mod load;
mod netsip;
mod proxy;
mod registrar;
mod server_report;

/// The suites `cargo xtask bench` knows, in the order it runs them.
const SUITES: [&str; 4] = ["parser", "registrar", "proxy", "calls"];

/// Criterion's options: short enough for a few minutes a suite, long enough for stable medians.
const CRITERION_ARGS: [&str; 5] = ["--noplot", "--warm-up-time", "1", "--measurement-time", "3"];

/// The implementations of the parser suite, as criterion names them, ours first.
const IMPLEMENTATIONS: [&str; 4] = ["ours", "ours-full-views", "rsip", "ezk-sip-types"];

/// The messages of the parser suite: criterion group (or id) and the name shown.
const MESSAGES: [(&str, &str); 3] = [
    ("invite", "INVITE"),
    ("200_ok", "200 OK"),
    ("register", "REGISTER"),
];

/// Bar colours, one per implementation.
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(158, 202, 225),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// Runs the suites named in `args`, or all of them.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let suites: Vec<&str> = if args.is_empty() {
        SUITES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = suites.iter().find(|s| !SUITES.contains(s)) {
        bail!(
            "bench: unknown suite {unknown:?}; known: {}",
            SUITES.join(", ")
        );
    }
    for suite in suites {
        match suite {
            "parser" => parser()?,
            "registrar" => registrar::run()?,
            "proxy" => proxy::run()?,
            "calls" => calls::run()?,
            _ => unreachable!("checked against SUITES above"),
        }
    }
    Ok(())
}

/// The medians of one table: per message, per implementation, ns (`None` when criterion left
/// no estimate, e.g. a peer that cannot parse that message).
type Medians = Vec<[Option<f64>; IMPLEMENTATIONS.len()]>;

/// The parser suite: run criterion, then write the report and the chart.
fn parser() -> Result<()> {
    let mut cmd = crate::cargo();
    cmd.args(["bench", "-p", "sip-packet", "--bench", "parse", "--"])
        .args(CRITERION_ARGS);
    crate::run(&mut cmd)?;

    let criterion = target_dir().join("criterion");
    let full = read_medians(&criterion, |message, imp| Path::new(message).join(imp))?;
    let parse_only = read_medians(&criterion, |message, imp| {
        Path::new("parse_only").join(imp).join(message)
    })?;

    let out = target_dir().join("bench-report");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let md = out.join("parser.md");
    fs::write(&md, report(&full, &parse_only, &machine()))
        .with_context(|| format!("cannot write {}", md.display()))?;
    let png = out.join("parser.png");
    chart(&png, &full, &parse_only)?;
    eprintln!("xtask: bench: wrote {} and {}", md.display(), png.display());
    Ok(())
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace root) or `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => crate::root().join(dir),
        None => crate::root().join("target"),
    }
}

/// Reads the median of every (message, implementation) pair, where `path` gives the
/// benchmark's directory under `criterion`.
fn read_medians(criterion: &Path, path: impl Fn(&str, &str) -> PathBuf) -> Result<Medians> {
    let mut rows = Medians::new();
    for (message, _) in MESSAGES {
        let mut row = [None; IMPLEMENTATIONS.len()];
        for (slot, imp) in row.iter_mut().zip(IMPLEMENTATIONS) {
            *slot = read_median(
                &criterion
                    .join(path(message, imp))
                    .join("new/estimates.json"),
            )?;
        }
        rows.push(row);
    }
    if rows.iter().all(|r| r[0].is_none()) {
        bail!(
            "bench: no criterion estimates for sip-packet under {}",
            criterion.display()
        );
    }
    Ok(rows)
}

/// The median point estimate (ns) of one criterion `estimates.json`; `None` when absent.
fn read_median(path: &Path) -> Result<Option<f64>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .map(Some)
        .ok_or_else(|| anyhow!("{} has no median.point_estimate", path.display()))
}

/// One line about the machine: CPU model, cores, compiler.
fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or_else(|_| "?".into(), |n| n.to_string());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc (version unknown)".into());
    format!("{cpu}, {cores} cores, {rustc}")
}

/// Messages per second from ns per message.
fn per_second(ns: f64) -> f64 {
    1e9 / ns
}

/// `1.23M`, `456k`, `789`.
fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The Markdown report.
fn report(full: &Medians, parse_only: &Medians, machine: &str) -> String {
    let mut md = String::new();
    md.push_str("# Parser benchmark: sip-packet, rsip, ezk-sip-types\n\n");
    let _ = writeln!(md, "Machine: {machine}.\n");
    md.push_str(
        "Medians of criterion (`cargo xtask bench parser`, 1 s warm-up, 3 s measurement). \
         \"ours ×\" is that implementation's median time divided by ours: how many times \
         as many messages per second ours handles (1.00 for ours). `ours` reads the fields \
         with the accessors a transaction layer uses (`Headers::top_via_branch`, `from_tag`, \
         `to_tag`: they check the parameters they read but build no Via or address); \
         `ours-full-views` builds the whole typed Via, From and To, as the peers' typed \
         APIs do (it shares `ours`' parse, so it has no parse-only row).\n\n",
    );
    md.push_str("## Parse, read Via branch, CSeq, Call-ID, From and To tags, print\n\n");
    table(&mut md, full);
    md.push_str("\n## Parse only\n\n");
    table(&mut md, parse_only);
    md
}

/// One table: a row per (message, implementation).
fn table(md: &mut String, rows: &Medians) {
    md.push_str("| message | implementation | median ns | msgs/s | ours × |\n");
    md.push_str("|---|---|---:|---:|---:|\n");
    for ((_, message), row) in MESSAGES.iter().zip(rows) {
        for (imp, ns) in IMPLEMENTATIONS.iter().zip(row) {
            let _ = match (ns, row[0]) {
                (Some(ns), Some(ours)) => writeln!(
                    md,
                    "| {message} | {imp} | {ns:.0} | {} | {:.2} |",
                    si(per_second(*ns)),
                    ns / ours
                ),
                (Some(ns), None) => writeln!(
                    md,
                    "| {message} | {imp} | {ns:.0} | {} | n/a |",
                    si(per_second(*ns))
                ),
                (None, _) => writeln!(md, "| {message} | {imp} | n/a | n/a | n/a |"),
            };
        }
    }
}

/// Finds a TrueType font on the system and registers it as `sans-serif`; `false` when there is
/// none, and the chart is then drawn without text.
fn load_font() -> bool {
    let from_fontconfig = Command::new("fc-match")
        .args(["-f", "%{file}", "sans-serif:style=Regular"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let known = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];
    for path in from_fontconfig
        .into_iter()
        .chain(known.iter().map(PathBuf::from))
    {
        let Ok(bytes) = fs::read(&path) else { continue };
        // plotters keeps fonts for the life of the program.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
            return true;
        }
    }
    false
}

/// Writes the PNG: two panels (full work, parse only) of bars, messages per second.
fn chart(path: &Path, full: &Medians, parse_only: &Medians) -> Result<()> {
    let text = load_font();
    if !text {
        eprintln!("xtask: bench: no TrueType font found, the chart has no text (see parser.md)");
    }
    let root = BitMapBackend::new(path, (960, 900)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    let (top, bottom) = root.split_vertically(450);
    panel(&top, full, "parse + typed access + print", text)
        .and_then(|()| panel(&bottom, parse_only, "parse only", text))
        .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// A step of 1, 2 or 5 times a power of ten giving about five grid lines up to `max`.
fn grid_step(max: f64) -> f64 {
    let rough = max / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power)
}

/// One panel of grouped bars: a group per message, a bar per implementation.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &Medians,
    title: &str,
    text: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (left, right, top, bottom) = (90, 20, 50, 70);
    let (plot_w, plot_h) = (w - left - right, h - top - bottom);
    let max = rows
        .iter()
        .flatten()
        .flatten()
        .map(|ns| per_second(*ns))
        .fold(0.0, f64::max);
    if max <= 0.0 {
        return Ok(());
    }
    let step = grid_step(max * 1.1);
    let top_value = (max * 1.1 / step).ceil() * step;
    let y = |v: f64| top + plot_h - (v / top_value * f64::from(plot_h)).round() as i32;
    let font = |size: u32| ("sans-serif", size).into_font();
    let grey = RGBColor(200, 200, 200);

    // Grid and its labels.
    let mut v = 0.0;
    while v <= top_value + step / 2.0 {
        area.draw(&PathElement::new(
            vec![(left, y(v)), (left + plot_w, y(v))],
            grey,
        ))?;
        if text {
            area.draw(&Text::new(format!("{}/s", si(v)), (8, y(v) - 8), font(15)))?;
        }
        v += step;
    }
    area.draw(&PathElement::new(
        vec![(left, top), (left, top + plot_h)],
        BLACK,
    ))?;
    if text {
        area.draw(&Text::new(
            format!("Messages per second: {title}"),
            (left, 14),
            font(20),
        ))?;
    }

    // Bars.
    let group_w = plot_w / MESSAGES.len() as i32;
    let bar_w = group_w / (IMPLEMENTATIONS.len() as i32 + 1);
    for (g, ((_, message), row)) in MESSAGES.iter().zip(rows).enumerate() {
        let x0 = left + g as i32 * group_w + bar_w / 2;
        for (i, ns) in row.iter().enumerate() {
            let Some(ns) = ns else { continue };
            let rate = per_second(*ns);
            let x = x0 + i as i32 * bar_w;
            area.draw(&Rectangle::new(
                [(x + 2, y(rate)), (x + bar_w - 2, y(0.0))],
                COLOURS[i].filled(),
            ))?;
            if text {
                area.draw(&Text::new(si(rate), (x + 4, y(rate) - 18), font(14)))?;
            }
        }
        if text {
            area.draw(&Text::new(
                message.to_string(),
                (x0 + bar_w, top + plot_h + 8),
                font(17),
            ))?;
        }
    }

    // Legend.
    let ly = h - 28;
    for (i, imp) in IMPLEMENTATIONS.iter().enumerate() {
        let lx = left + i as i32 * 200;
        area.draw(&Rectangle::new(
            [(lx, ly), (lx + 16, ly + 16)],
            COLOURS[i].filled(),
        ))?;
        if text {
            area.draw(&Text::new(imp.to_string(), (lx + 22, ly), font(16)))?;
        }
    }
    Ok(())
}
