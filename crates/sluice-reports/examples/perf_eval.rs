//! The evaluation of Sluice's regression detector against the seed's
//! fixed-threshold rule (warn at +10% over one stored baseline), on the
//! same simulated series. Run by `bash bench/perf-gates.sh`, which writes
//! its Markdown to docs/bench-perf-gates.md.
//!
//! A series is a benchmark's runs on one machine: each run has `k`
//! repetitions with log-normal noise (1, 3 or 5%) around the run's level,
//! the level carrying a per-run machine offset (log-normal, 1%). In one
//! run in twenty, one repetition is a spike (×1.5 to ×3): a noisy
//! neighbour, never a regression. Step series move by +2, +5 or +10% at a
//! random run and stay there.

use sluice_reports::perf::stats::median;
use sluice_reports::perf::{PerfSettings, Verdict, judge_one};

/// Runs before any judgement (the history a team has).
const WARMUP: usize = 20;
/// Runs judged per clean series.
const JUDGED: usize = 40;
const SERIES: usize = 300;
const MACHINE_OFFSET: f64 = 0.01;
const SPIKE_CHANCE: f64 = 0.05;

/// splitmix64: small, seedable, good enough for simulation.
struct Random(u64);

impl Random {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// One run's repetitions at `level`.
fn run(random: &mut Random, level: f64, noise: f64, k: usize) -> Vec<f64> {
    let offset = (MACHINE_OFFSET * random.normal()).exp();
    let mut values: Vec<f64> = (0..k)
        .map(|_| level * offset * (noise * random.normal()).exp())
        .collect();
    if random.uniform() < SPIKE_CHANCE {
        let at = (random.next_u64() % k as u64) as usize;
        values[at] *= 1.5 + 1.5 * random.uniform();
    }
    values
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The seed's rule: this run's mean against the last run's, +10% alerts.
fn fixed_rule_alarm(previous: &[f64], current: &[f64]) -> bool {
    mean(current) / mean(previous) >= 1.10
}

fn sluice_alarm(history: &[Vec<f64>], current: &[f64], settings: &PerfSettings) -> bool {
    let series: Vec<f64> = history.iter().map(|reps| median(reps)).collect();
    matches!(
        judge_one(&series, current, false, settings).1,
        Verdict::Warning | Verdict::Critical
    )
}

#[derive(Default)]
struct Tally {
    judged: u64,
    alarms: u64,
}

/// False alarms per metric and run on clean series: (fixed rule, Sluice).
fn false_alarms(noise: f64, k: usize, seed: u64, settings: &PerfSettings) -> (f64, f64) {
    let mut random = Random(seed);
    let (mut fixed, mut ours) = (Tally::default(), Tally::default());
    for _ in 0..SERIES {
        let runs: Vec<Vec<f64>> = (0..WARMUP + JUDGED)
            .map(|_| run(&mut random, 1.0, noise, k))
            .collect();
        for t in WARMUP..runs.len() {
            fixed.judged += 1;
            ours.judged += 1;
            fixed.alarms += u64::from(fixed_rule_alarm(&runs[t - 1], &runs[t]));
            ours.alarms += u64::from(sluice_alarm(&runs[..t], &runs[t], settings));
        }
    }
    (
        fixed.alarms as f64 / fixed.judged as f64,
        ours.alarms as f64 / ours.judged as f64,
    )
}

#[derive(Default)]
struct Catch {
    steps: u64,
    within_one: u64,
    within_three: u64,
    /// Runs from the step to the first alarm, for steps caught within ten.
    delays: Vec<u64>,
}

/// How a detector fares on series that step up by `size` at a random run.
fn steps(noise: f64, k: usize, size: f64, seed: u64, settings: &PerfSettings) -> (Catch, Catch) {
    let mut random = Random(seed);
    let (mut fixed, mut ours) = (Catch::default(), Catch::default());
    for _ in 0..SERIES {
        let step_at = WARMUP + (random.next_u64() % 20) as usize;
        let runs: Vec<Vec<f64>> = (0..step_at + 10)
            .map(|t| {
                run(
                    &mut random,
                    if t >= step_at { 1.0 + size } else { 1.0 },
                    noise,
                    k,
                )
            })
            .collect();
        let first = |alarm: &dyn Fn(usize) -> bool| {
            (step_at..runs.len())
                .find(|t| alarm(*t))
                .map(|t| (t - step_at) as u64)
        };
        let fixed_first = first(&|t| fixed_rule_alarm(&runs[t - 1], &runs[t]));
        let ours_first = first(&|t| sluice_alarm(&runs[..t], &runs[t], settings));
        for (catch, found) in [(&mut fixed, fixed_first), (&mut ours, ours_first)] {
            catch.steps += 1;
            if let Some(delay) = found {
                catch.within_one += u64::from(delay == 0);
                catch.within_three += u64::from(delay <= 2);
                catch.delays.push(delay + 1);
            }
        }
    }
    (fixed, ours)
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.0}%", 100.0 * part as f64 / whole as f64)
}

fn delay(catch: &Catch) -> String {
    if catch.delays.is_empty() {
        "–".into()
    } else {
        format!(
            "{:.1}",
            catch.delays.iter().sum::<u64>() as f64 / catch.delays.len() as f64
        )
    }
}

fn main() {
    let settings = PerfSettings::default();
    println!("# Evaluation: regression detection against a fixed 10% threshold\n");
    println!(
        "Run with `bash bench/perf-gates.sh` (`cargo run --release -p sluice-reports --example perf_eval`)."
    );
    println!(
        "Simulated: {SERIES} series per cell; each run has k repetitions with log-normal noise around its level,"
    );
    println!(
        "the level carrying a per-run machine offset ({:.0}%), and in one run in twenty one repetition is a",
        MACHINE_OFFSET * 100.0
    );
    println!(
        "spike (×1.5–3). Clean series are judged over {JUDGED} runs after {WARMUP} of history; step series move"
    );
    println!(
        "by +2, +5 or +10% at a random run after the first {WARMUP} and are followed for 10 runs.\n"
    );
    println!(
        "- **Fixed rule** (the seed's script): this run's mean against the previous run's; +10% alerts."
    );
    println!(
        "- **Sluice**: `PerfSettings::default()` (confidence {}, smallest change {:.0}%, critical from {:.0}%): the",
        settings.confidence,
        settings.min_change * 100.0,
        settings.critical * 100.0
    );
    println!(
        "  median of a run's repetitions, against the default branch's runs since the last change point, over"
    );
    println!("  the last 1, 2 and 3 runs; an alarm is a `warning` or `critical` verdict.\n");
    println!(
        "| Noise | k | False alarms per metric per run (fixed / Sluice) | 5% steps caught in 1 run | in 3 runs | Mean delay (runs) | 2% in 3 runs | 10% in 1 run |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut seed = 1;
    for noise in [0.01, 0.03, 0.05] {
        for k in [1, 5] {
            seed += 1;
            let (fixed_fa, ours_fa) = false_alarms(noise, k, seed * 101, &settings);
            let (fixed5, ours5) = steps(noise, k, 0.05, seed * 103, &settings);
            let (fixed2, ours2) = steps(noise, k, 0.02, seed * 107, &settings);
            let (fixed10, ours10) = steps(noise, k, 0.10, seed * 109, &settings);
            println!(
                "| {:.0}% | {k} | {:.2}% / **{:.2}%** | {} / **{}** | {} / **{}** | {} / **{}** | {} / **{}** | {} / **{}** |",
                noise * 100.0,
                fixed_fa * 100.0,
                ours_fa * 100.0,
                percent(fixed5.within_one, fixed5.steps),
                percent(ours5.within_one, ours5.steps),
                percent(fixed5.within_three, fixed5.steps),
                percent(ours5.within_three, ours5.steps),
                delay(&fixed5),
                delay(&ours5),
                percent(fixed2.within_three, fixed2.steps),
                percent(ours2.within_three, ours2.steps),
                percent(fixed10.within_one, fixed10.steps),
                percent(ours10.within_one, ours10.steps),
            );
        }
    }
    println!(
        "\nEach cell reads fixed rule / Sluice. The target (3% noise, k = 5): at most 1% false alarms and at"
    );
    println!("least 90% of 5% steps caught within 3 runs.\n");
    println!(
        "With one repetition a run (k = 1) a spike is the whole run and cannot be told from a step on the"
    );
    println!(
        "run it happens: Sluice's false alarms there are the spikes themselves (one run in twenty), as the"
    );
    println!(
        "fixed rule's are. With repetitions the run's median ignores them. Sluice's alarms on the two runs"
    );
    println!(
        "after a spike are suppressed: a window of several runs only speaks when this run moved too."
    );
}
