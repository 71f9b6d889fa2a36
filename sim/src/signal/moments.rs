//! `features` fidelity: the edge features of a window computed from the signal
//! model's moments, not from samples, plus the estimator noise a window of N
//! samples would show.
//!
//! For independent zero-mean parts X, Y: E[(X+Y)²] = E[X²] + E[Y²] and
//! E[(X+Y)⁴] = E[X⁴] + 6·E[X²]·E[Y²] + E[Y⁴]. The shaft-locked part is one
//! periodic signal (its harmonics are not independent of each other), so its
//! moments are computed exactly over one revolution; a trigonometric polynomial
//! of degree K raised to the fourth power is averaged exactly by M > 4K equally
//! spaced points. Impacts follow Campbell's theorem for non-overlapping pulses:
//! E[x²] = λ·E[A²]·Σh²/fs, E[x⁴] = λ·E[A⁴]·Σh⁴/fs. Their spectrum is that of the
//! sampled ringing `raw` adds, h[n] = c·rⁿ·sin(θn), whose transfer function
//! c·r·sinθ·z⁻¹ / (1 − 2r·cosθ·z⁻¹ + r²z⁻²) includes the aliasing of the continuous
//! ringing (a continuous |H(f)|² would put several times too little energy near
//! Nyquist).

use rand::RngExt;
use rand_distr::StandardNormal;

use super::{
    AXES, ResponseKey, SLIP_JITTER, VibrationModel, impulse_response, response_key, seen_response,
};
use crate::edge::spectral::{AxisFeatures, BANDS};
use crate::sensors::lowpass::Lowpass;
use crate::units::STANDARD_GRAVITY;

/// Lower edge of the ISO 10816 velocity band, Hz.
pub const VEL_LO_HZ: f64 = 10.0;
/// Upper edge of the ISO 10816 velocity band, Hz.
pub const VEL_HI_HZ: f64 = 1000.0;

/// Power-covariance factor of Hann-windowed periodogram bins: a smooth sum of bin
/// powers of white noise scatters as if each bin counted N·Σw⁴/(Σw²)² = 35/18 times
/// (adjacent bins correlate with |ρ| = 2/3 and 1/6: 1 + 2·(4/9) + 2·(1/36)).
const HANN_BIN_OVERLAP: f64 = 35.0 / 18.0;

/// Per-resonance figures that do not change from window to window.
#[derive(Clone, Debug, Default)]
struct ResponseStats {
    key: ResponseKey,
    s2: f64,
    s3: f64,
    s4: f64,
    /// h[1] of the sample-normalised ringing, and its pole radius r and angle θ
    /// (per sample): h[n] = h[1]/(r·sinθ)·rⁿ·sin(θn).
    h1: f64,
    /// h[n]³, for the spectrum of the impacts' skew.
    cubes: Vec<f64>,
    r: f64,
    theta: f64,
    /// The part's low-pass the ringing passes through, if any.
    lowpass: Option<Lowpass>,
    /// Largest |h[n]| of the ringing as seen (1 without a low-pass).
    peak: f64,
}

impl ResponseStats {
    /// |H(e^{iω})|² of the sampled ringing at `f` (ω = 2πf/fs): what one impact of
    /// unit peak puts at that frequency, in the units of a DFT sum over samples.
    fn mag2(&self, f: f64, fs: f64) -> f64 {
        let (re, im) = self.transfer(f, fs);
        re * re + im * im
    }

    /// Σ h[n]³·e^{−iωn}, as (re, im).
    fn cube_transfer(&self, f: f64, fs: f64) -> (f64, f64) {
        let w = std::f64::consts::TAU * f / fs;
        self.cubes
            .iter()
            .enumerate()
            .fold((0.0, 0.0), |(re, im), (n, c)| {
                let (s, co) = (w * n as f64).sin_cos();
                (re + c * co, im - c * s)
            })
    }

    /// The ringing's transfer function times the part's low-pass, as (re, im).
    fn transfer(&self, f: f64, fs: f64) -> (f64, f64) {
        let (re, im) = self.ringing(f, fs);
        match &self.lowpass {
            None => (re, im),
            Some(lp) => {
                let (lr, li) = lp.transfer(f);
                (re * lr - im * li, re * li + im * lr)
            }
        }
    }

    /// H(e^{iω}) = h[1]·e^{−iω} / (1 − 2r·cosθ·e^{−iω} + r²·e^{−2iω}), as (re, im).
    fn ringing(&self, f: f64, fs: f64) -> (f64, f64) {
        let w = std::f64::consts::TAU * f / fs;
        let k = 2.0 * self.r * self.theta.cos();
        let r2 = self.r * self.r;
        let (dre, dim) = (
            1.0 - k * w.cos() + r2 * (2.0 * w).cos(),
            k * w.sin() - r2 * (2.0 * w).sin(),
        );
        let d2 = dre * dre + dim * dim;
        let (s, c) = w.sin_cos();
        (
            self.h1 * (c * dre - s * dim) / d2,
            -self.h1 * (s * dre + c * dim) / d2,
        )
    }
}

/// Where a train of unit-peak impacts puts its power: the window mean it adds, its
/// AC power per band, and its velocity mean square, per g² of impact peak.
///
/// A train at rate λ with slip jitter J (fraction of the period) and modulation
/// 1 + d·cos(2π·fm·τ) is, in spectrum, a line at each m·λ with Fourier coefficient
/// (λ/fs)·H(m·λ) and sidebands at m·λ ± fm with (λ/fs)·(d/2)·H(m·λ ± fm), all kept
/// with coherence e^{−(2π·m·J)²}, plus what the jitter takes from them spread as a
/// continuous density 2·λ·E[(1 + d·cos)²]·|H(f)|²/fs² · (1 − e^{−(2π·J·f/λ)²}).
/// The m = 0 carrier is the DC the edge removes; the m = 0 sideband at fm is the
/// modulation itself, which the 1/f² velocity weight makes the strongest line of all.
#[derive(Clone, Copy, Debug, Default)]
struct TrainSpectrum {
    /// Mean of the train, g per g of peak: (λ/fs)·H(0).
    dc: f64,
    /// AC mean square per band, g² per g² of peak.
    bands: [f64; BANDS],
    /// Velocity mean square over the ISO band, (mm/s)² per g² of peak.
    vel2: f64,
    /// Σ over the coherent lines in the ISO band of their velocity mean square / f².
    vel2_f2: f64,
    /// At each band edge (0, nyq/BANDS, …, nyq; 0 at DC, which the mean removes):
    /// E[A²]·S₁(f)·√(1 − coherence)·λ^1.5,
    /// with S₁(f) = 2·|H(f)|²/fs² the energy density of one impact, g²·s/Hz per g².
    edge: [f64; BANDS + 1],
    /// H(fm) and H₃(fm) (of h and of h³), for a modulated train's line at fm.
    fm_line: (f64, f64),
    fm_cube: (f64, f64),
    /// Density of the incoherent continuum at the bottom of the velocity band, g²/Hz
    /// per g² of peak.
    low_density: f64,
}

impl TrainSpectrum {
    fn of(st: &ResponseStats, imp: &super::Impacts, fs: f64, vel_hi: f64) -> TrainSpectrum {
        let nyq = fs / 2.0;
        let (lambda, fm, d) = (imp.rate_hz, imp.mod_hz, imp.mod_depth);
        let band_of = |f: f64| ((f / nyq * BANDS as f64) as usize).min(BANDS - 1);
        let k_vel = (STANDARD_GRAVITY * 1e3 / std::f64::consts::TAU).powi(2);
        let in_vel = |f: f64| (VEL_LO_HZ..=vel_hi).contains(&f);
        let mut out = TrainSpectrum {
            dc: lambda / fs * st.transfer(0.0, fs).0,
            ..TrainSpectrum::default()
        };
        if d > 0.0 {
            out.fm_line = st.transfer(fm, fs);
            out.fm_cube = st.cube_transfer(fm, fs);
        }
        let mut m = 0.0f64;
        loop {
            let coherence = (-(std::f64::consts::TAU * m * SLIP_JITTER).powi(2)).exp();
            if m * lambda - fm >= nyq || coherence < 1e-12 {
                break;
            }
            let carrier = if m > 0.0 { 1.0 } else { 0.0 };
            for (f, w) in [
                (m * lambda, carrier),
                (m * lambda - fm, d / 2.0),
                (m * lambda + fm, d / 2.0),
            ] {
                if w == 0.0 || f <= 0.0 || f >= nyq {
                    continue;
                }
                let p = 2.0 * (lambda * w / fs).powi(2) * st.mag2(f, fs) * coherence;
                out.bands[band_of(f)] += p;
                if in_vel(f) {
                    out.vel2 += p * k_vel / (f * f);
                    out.vel2_f2 += p * k_vel / f.powi(4);
                }
            }
            m += 1.0;
        }
        // Amplitudes that differ impact to impact (a = 1 + c·z) keep E[a]² = 1 in the
        // lines and spread var(a) = c² as a continuum of the same shape as the
        // jitter's: the incoherent share at f is 1 + c² − coherence(f).
        let c2 = imp.amp_cv * imp.amp_cv;
        for (e, x) in out.edge.iter_mut().enumerate().skip(1) {
            let f = e as f64 * nyq / BANDS as f64;
            let coherence = (-(std::f64::consts::TAU * SLIP_JITTER * f / lambda).powi(2)).exp();
            let s1 = 2.0 * st.mag2(f, fs) / (fs * fs);
            *x = (1.0 + d * d / 2.0) * s1 * (1.0 + c2 - coherence).sqrt() * lambda.powf(1.5);
        }
        // The incoherent remainder, on a fine grid.
        let steps = 512 * BANDS;
        let df = nyq / steps as f64;
        let density = 2.0 * lambda * (1.0 + d * d / 2.0) / (fs * fs);
        out.low_density = density
            * st.mag2(VEL_LO_HZ, fs)
            * (1.0 + c2
                - (-(std::f64::consts::TAU * SLIP_JITTER * VEL_LO_HZ / lambda).powi(2)).exp());
        for i in 0..steps {
            let f = (i as f64 + 0.5) * df;
            let lost =
                1.0 + c2 - (-(std::f64::consts::TAU * SLIP_JITTER * f / lambda).powi(2)).exp();
            let p = density * st.mag2(f, fs) * lost * df;
            out.bands[i * BANDS / steps] += p;
            if in_vel(f) {
                out.vel2 += p * k_vel / (f * f);
            }
        }
        out
    }
}

/// Moments of one axis over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AxisMoments {
    /// Mean square of the whole signal, g².
    pub m2: f64,
    /// Fourth moment, g⁴.
    pub m4: f64,
    /// Largest deterministic excursion (periodic + tones + impacts), g.
    pub peak_det: f64,
    /// RMS of the Gaussian part (structure + sensor noise + quantisation), g.
    pub sigma: f64,
    /// Velocity mean square over 10–1000 Hz of the deterministic parts, (mm/s)².
    pub vel2_det: f64,
    /// Velocity mean square of the Gaussian part, (mm/s)².
    pub vel2_noise: f64,
    /// Σ over the deterministic lines in the velocity band of their velocity mean
    /// square divided by f², (mm/s)²/Hz²: how strongly noise makes them scatter.
    pub vel2_det_f2: f64,
    /// Mean square one impact adds per second of window, g²·s (root-sum-square over
    /// impact trains, weighted by the spread of impact energies): a window holds a
    /// whole number of impacts, so its mean square scatters with that number.
    pub impact_grain: f64,
    /// The same for the fourth moment, g⁴·s.
    pub impact_grain4: f64,
    /// Scatter of each band's mean square from impacts whose spectrum a band edge
    /// cuts, g²·√s (see [`Analytic::estimator_std`]).
    pub impact_edge: [f64; BANDS],
    /// Mean square per band, g².
    pub bands: [f64; BANDS],
    /// Scatter of a window's moments from impact amplitudes that differ impact to
    /// impact (a = 1 + c·z): var(m2)·T = Σ x2²·V22/λ over trains, g⁴·s, with
    /// V22 = var(a²)/E[a²]²; `amp_var44` and `amp_var42` the same for m4 and for the
    /// covariance of m4 with m2 (g⁸·s, g⁶·s).
    pub amp_var22: f64,
    /// See `amp_var22`.
    pub amp_var44: f64,
    /// See `amp_var22`.
    pub amp_var42: f64,
    /// The same for each band's mean square: Σ (the train's power in the band)²·V22/λ.
    pub amp_var_bands: [f64; BANDS],
    /// The same for the velocity mean square, (mm/s)⁴·s.
    pub amp_var_vel: f64,
    /// One-sided density of the impacts' incoherent continuum at the bottom of the
    /// velocity band, g²/Hz.
    pub impact_continuum: f64,
    /// The Gaussian part's mean square in each band, g² (shaped by the low-pass).
    pub noise_bands: [f64; BANDS],
    /// The Gaussian part's one-sided density in the velocity band, g²/Hz.
    pub noise_density: f64,
    /// Per band, mean(density)²/mean(density²) of the Gaussian part: 1 where it is
    /// flat, less where the low-pass slopes across the band.
    pub noise_flatness: [f64; BANDS],
    /// The strongest train's c·(peak of one impact), g: the window's largest impact
    /// stands above the mean impact by this times the expected maximum of K normals.
    pub impact_peak_spread: f64,
    /// Impacts per sample that can make the peak (those near the top of the
    /// modulation; all of them without modulation).
    pub impact_peak_rate: f64,
}

/// Relative scatter of a random impact amplitude a = 1 + c·z (z standard normal):
/// V22 = var(a²)/E[a²]², V44 = var(a⁴)/E[a⁴]², V42 = cov(a⁴, a²)/(E[a⁴]·E[a²]),
/// from the even moments of z (1, 3, 15, 105).
#[derive(Clone, Copy, Debug)]
struct AmplitudeSpread {
    v22: f64,
    v44: f64,
    v42: f64,
}

impl AmplitudeSpread {
    /// For amplitude spread `c` on a train modulated by 1 + d·cos: the impacts'
    /// weights w = m² (m⁴) differ across the modulation, so a sum over K of them
    /// scatters by V·E[w²]/E[w]²/K (even moments of cos: 1/2, 3/8, 5/16, 35/128).
    fn of(c: f64, d: f64) -> AmplitudeSpread {
        let c2 = c * c;
        let e2 = 1.0 + c2;
        let e4 = 1.0 + 6.0 * c2 + 3.0 * c2 * c2;
        let e6 = 1.0 + 15.0 * c2 + 45.0 * c2 * c2 + 15.0 * c2.powi(3);
        let e8 = 1.0 + 28.0 * c2 + 210.0 * c2 * c2 + 420.0 * c2.powi(3) + 105.0 * c2.powi(4);
        let d2 = d * d;
        let m2 = 1.0 + d2 / 2.0;
        let m4 = 1.0 + 3.0 * d2 + 3.0 * d2 * d2 / 8.0;
        let m6 = 1.0 + 7.5 * d2 + 5.625 * d2 * d2 + 0.3125 * d2.powi(3);
        let m8 = 1.0 + 14.0 * d2 + 26.25 * d2 * d2 + 8.75 * d2.powi(3) + 35.0 / 128.0 * d2.powi(4);
        AmplitudeSpread {
            v22: (e4 / (e2 * e2) - 1.0) * m4 / (m2 * m2),
            v44: (e8 / (e4 * e4) - 1.0) * m8 / (m4 * m4),
            v42: (e6 / (e4 * e2) - 1.0) * m6 / (m4 * m2),
        }
    }
}

/// Analytic feature engine with its caches (one per sensor).
#[derive(Clone, Debug, Default)]
pub struct Analytic {
    stats: ResponseStats,
    /// Spectra of the last impact trains seen, by their parameters (a machine at a
    /// steady speed keeps its rates from window to window).
    trains: Vec<(TrainKey, TrainSpectrum)>,
    /// How the part's low-pass shapes white noise across the bands.
    shape: Option<NoiseShape>,
}

/// (rate, modulation frequency and depth, resonance, damping, fs, top of the
/// velocity band, amplitude spread, the part's low-pass): everything a
/// [`TrainSpectrum`] depends on.
type TrainKey = [f64; 9];

/// Impact trains whose spectra an [`Analytic`] keeps (two bearing defects at once,
/// at the few speeds a machine wanders between).
const TRAIN_CACHE: usize = 4;

/// How far (relative) a train's rate and modulation frequency may be from a kept
/// spectrum's for it to serve: rolling-element slip and load wander move them by
/// a fraction of a percent from window to window, and a spectrum's band energies
/// and velocity move by about that fraction of their own size, far inside their
/// estimator scatter.
const TRAIN_RATE_TOLERANCE: f64 = 2e-3;

fn same_train(a: &TrainKey, b: &TrainKey) -> bool {
    let near = |x: f64, y: f64| (x - y).abs() <= TRAIN_RATE_TOLERANCE * x.abs().max(y.abs());
    near(a[0], b[0]) && near(a[1], b[1]) && a[2..] == b[2..]
}

/// The low-pass's mean |H|² and |H|⁴ over each band and its noise bandwidth.
#[derive(Clone, Copy, Debug)]
struct NoiseShape {
    cutoff_hz: f64,
    fs: f64,
    m2: [f64; BANDS],
    m4: [f64; BANDS],
    enbw_hz: f64,
}

impl NoiseShape {
    fn of(lp: &Lowpass) -> NoiseShape {
        const STEPS: usize = 256;
        let width = lp.fs / 2.0 / BANDS as f64;
        let mut m2 = [0.0; BANDS];
        let mut m4 = [0.0; BANDS];
        for b in 0..BANDS {
            for i in 0..STEPS {
                let h2 = lp.mag2((b as f64 + (i as f64 + 0.5) / STEPS as f64) * width);
                m2[b] += h2 / STEPS as f64;
                m4[b] += h2 * h2 / STEPS as f64;
            }
        }
        NoiseShape {
            cutoff_hz: lp.cutoff_hz,
            fs: lp.fs,
            m2,
            m4,
            enbw_hz: m2.iter().sum::<f64>() * width,
        }
    }
}

/// Expected maximum of |Z| over `n` independent standard normal draws
/// (first terms of the Gumbel asymptotic expansion for 2n half-normal draws).
pub fn expected_abs_max(n: f64) -> f64 {
    if n <= 1.0 {
        return 0.8;
    }
    let l = (2.0 * (2.0 * n).ln()).sqrt();
    l - ((2.0 * n).ln().ln() + (4.0 * std::f64::consts::PI).ln() - 2.0 * 0.577_215_66) / (2.0 * l)
}

impl Analytic {
    /// A fresh engine.
    pub fn new() -> Analytic {
        Analytic::default()
    }

    fn response(
        &mut self,
        resonance_hz: f64,
        damping: f64,
        fs: f64,
        lowpass: Option<&Lowpass>,
    ) -> &ResponseStats {
        let key = response_key(resonance_hz, damping, fs, lowpass);
        if self.stats.key != key || self.stats.s2 == 0.0 {
            let unfiltered = impulse_response(resonance_hz, damping, fs);
            let h = seen_response(resonance_hz, damping, fs, lowpass);
            let s2 = h.iter().map(|x| x * x).sum();
            let s3 = h.iter().map(|x| x.powi(3)).sum();
            let s4 = h.iter().map(|x| x.powi(4)).sum();
            let wn = std::f64::consts::TAU * resonance_hz;
            let alpha = damping * wn;
            let wd = wn * (1.0 - damping * damping).sqrt();
            self.stats = ResponseStats {
                key,
                s2,
                s3,
                s4,
                h1: unfiltered.get(1).copied().unwrap_or(0.0),
                cubes: h.iter().map(|x| x.powi(3)).collect(),
                r: (-alpha / fs).exp(),
                theta: wd / fs,
                lowpass: lowpass.copied(),
                peak: h.iter().fold(0.0f64, |m, x| m.max(x.abs())),
            };
        }
        &self.stats
    }

    /// Moments of each axis of `model` sampled at `fs`, with Gaussian RMS `sigma[a]`
    /// (structure noise, sensor noise and quantisation together) on each axis.
    pub fn moments(
        &mut self,
        model: &VibrationModel,
        fs: f64,
        sigma: [f64; AXES],
    ) -> [AxisMoments; AXES] {
        let nyq = fs / 2.0;
        let vel_hi = VEL_HI_HZ.min(nyq);
        let to_mm_s = |f: f64| STANDARD_GRAVITY * 1e3 / (std::f64::consts::TAU * f);
        let band_of = |f: f64| ((f / nyq * BANDS as f64) as usize).min(BANDS - 1);
        let mut out = [AxisMoments::default(); AXES];

        // Shaft-locked part: exact moments over one revolution.
        let harmonics: Vec<_> = model
            .harmonics
            .iter()
            .filter(|h| (h.order as f64) * model.shaft_hz < nyq)
            .collect();
        let max_order = harmonics.iter().map(|h| h.order).max().unwrap_or(0) as usize;
        let points = (4 * max_order + 4).next_power_of_two().max(8);
        // The waveform on a grid, its sines shared by the three axes.
        let wave_on = |n: usize| -> Vec<[f64; AXES]> {
            // Each harmonic's sine on the grid by a rotating phasor: no trig per point.
            let mut phasors: Vec<_> = harmonics
                .iter()
                .map(|h| {
                    let step = std::f64::consts::TAU * h.order as f64 / n as f64;
                    (h.phase.sin_cos(), step.sin_cos(), h.amp_g)
                })
                .collect();
            (0..n)
                .map(|_| {
                    let mut p = [0.0; AXES];
                    for ((s, c), (ds, dc), amp) in phasors.iter_mut() {
                        p.iter_mut().zip(*amp).for_each(|(p, a)| *p += a * *s);
                        (*s, *c) = (*s * *dc + *c * *ds, *c * *dc - *s * *ds);
                    }
                    p
                })
                .collect()
        };
        let grid = if harmonics.is_empty() {
            Vec::new()
        } else {
            wave_on(points)
        };
        // The peak needs a finer grid than the moments (4K + 4 points could miss a third
        // of the top order's amplitude): 16 points per cycle of the highest order, then
        // Newton steps on p′ = 0 from the three best, which lands on the top exactly.
        let peak_grid = if harmonics.is_empty() {
            Vec::new()
        } else {
            wave_on((16 * max_order).max(points))
        };
        let refine = |a: usize, mut th: f64, step: f64| -> f64 {
            for _ in 0..5 {
                let (mut d1, mut d2) = (0.0, 0.0);
                for h in &harmonics {
                    let k = h.order as f64;
                    let (s, c) = (k * th + h.phase).sin_cos();
                    d1 += h.amp_g[a] * k * c;
                    d2 -= h.amp_g[a] * k * k * s;
                }
                if d2 == 0.0 {
                    break;
                }
                th -= (d1 / d2).clamp(-step, step);
            }
            harmonics
                .iter()
                .map(|h| h.amp_g[a] * (h.order as f64 * th + h.phase).sin())
                .sum::<f64>()
                .abs()
        };
        for (a, o) in out.iter_mut().enumerate() {
            let (mut m2, mut m4, mut peak) = (0.0, 0.0, 0.0f64);
            if !harmonics.is_empty() {
                for p in &grid {
                    m2 += p[a] * p[a];
                    m4 += p[a].powi(4);
                }
                m2 /= points as f64;
                m4 /= points as f64;
                let n = peak_grid.len();
                let step = std::f64::consts::TAU / n as f64;
                // The three largest |p| on the grid, in one pass.
                let mut best = [(0usize, -1.0f64); 3];
                for (i, p) in peak_grid.iter().enumerate() {
                    let v = p[a].abs();
                    if v > best[2].1 {
                        best[2] = (i, v);
                        best.sort_by(|x, y| y.1.total_cmp(&x.1));
                    }
                }
                for &(i, v) in best.iter().filter(|b| b.1 >= 0.0) {
                    peak = peak.max(v).max(refine(a, i as f64 * step, step));
                }
            }
            o.m2 = m2;
            o.m4 = m4;
            o.peak_det = peak;
            for h in &harmonics {
                let f = h.order as f64 * model.shaft_hz;
                let p = h.amp_g[a] * h.amp_g[a] / 2.0;
                o.bands[band_of(f)] += p;
                if (VEL_LO_HZ..=vel_hi).contains(&f) {
                    let v2 = p * to_mm_s(f).powi(2);
                    o.vel2_det += v2;
                    o.vel2_det_f2 += v2 / (f * f);
                }
            }
        }
        for t in model.tones.iter().filter(|t| t.freq_hz < nyq) {
            for (a, o) in out.iter_mut().enumerate() {
                let amp = t.amp_g[a];
                let (x2, x4) = (amp * amp / 2.0, 3.0 * amp.powi(4) / 8.0);
                o.m4 += 6.0 * o.m2 * x2 + x4;
                o.m2 += x2;
                o.peak_det += amp;
                o.bands[band_of(t.freq_hz)] += x2;
                if (VEL_LO_HZ..=vel_hi).contains(&t.freq_hz) {
                    let v2 = x2 * to_mm_s(t.freq_hz).powi(2);
                    o.vel2_det += v2;
                    o.vel2_det_f2 += v2 / (t.freq_hz * t.freq_hz);
                }
            }
        }
        for imp in &model.impacts {
            if imp.rate_hz <= 0.0 {
                continue;
            }
            let st = self
                .response(imp.resonance_hz, imp.damping, fs, model.lowpass.as_ref())
                .clone();
            let d = imp.mod_depth;
            // Moments of the modulation 1 + d·cos: E[cos²] = 1/2, E[cos³] = 0, E[cos⁴] = 3/8,
            // times those of the impact's own amplitude a = 1 + c·z (z standard normal):
            // E[a²] = 1 + c², E[a³] = 1 + 3c², E[a⁴] = 1 + 6c² + 3c⁴.
            let c2 = imp.amp_cv * imp.amp_cv;
            let av = AmplitudeSpread::of(imp.amp_cv, d);
            let ea2 = (1.0 + d * d / 2.0) * (1.0 + c2);
            let ea3 = (1.0 + 1.5 * d * d) * (1.0 + 3.0 * c2);
            let ea4 =
                (1.0 + 3.0 * d * d + 3.0 * d.powi(4) / 8.0) * (1.0 + 6.0 * c2 + 3.0 * c2 * c2);
            let key = [
                imp.rate_hz,
                imp.mod_hz,
                imp.mod_depth,
                imp.resonance_hz,
                imp.damping,
                fs,
                vel_hi,
                imp.amp_cv,
                model.lowpass.map_or(0.0, |l| l.cutoff_hz),
            ];
            let spec = match self.trains.iter().find(|(k, _)| same_train(k, &key)) {
                Some((_, spec)) => *spec,
                None => {
                    let spec = TrainSpectrum::of(&st, imp, fs, vel_hi);
                    if self.trains.len() == TRAIN_CACHE {
                        self.trains.remove(0);
                    }
                    self.trains.push((key, spec));
                    spec
                }
            };
            for (a, o) in out.iter_mut().enumerate() {
                let amp = imp.amp_g[a];
                if amp == 0.0 {
                    continue;
                }
                // The window's mean is removed, and with it the train's DC line: the
                // features see central moments, E[(x − μ)⁴] = E[x⁴] − 4μ·E[x³] +
                // 6μ²·E[x²] − 3μ⁴ (the ringing's skew makes the 4μ·E[x³] term ~0.5 %).
                let dc = amp * spec.dc;
                let rate = imp.rate_hz / fs;
                let raw2 = rate * amp * amp * ea2 * st.s2;
                let raw3 = rate * amp.powi(3) * ea3 * st.s3;
                let raw4 = rate * amp.powi(4) * ea4 * st.s4;
                let x2 = raw2 - dc * dc;
                let x4 = raw4 - 4.0 * dc * raw3 + 6.0 * dc * dc * raw2 - 3.0 * dc.powi(4);
                o.m4 += 6.0 * o.m2 * x2 + x4;
                o.m2 += x2;
                // The ringing's first (positive) lobe is its peak, seen from the mean.
                o.peak_det += amp * (1.0 + d) * st.peak - dc;
                for ((b, v), s) in o.bands.iter_mut().zip(&mut o.amp_var_bands).zip(spec.bands) {
                    *b += amp * amp * s;
                    *v += (amp * amp * s).powi(2) * av.v22 / imp.rate_hz;
                }
                // One impact more or less in the window: its mean square is x2/(λ·T),
                // and the energies of modulated impacts spread by E[A⁴]/E[A²]².
                let spread = ea4.sqrt() / ea2 / imp.rate_hz;
                o.impact_grain = o.impact_grain.hypot(x2 * spread);
                o.impact_grain4 = o.impact_grain4.hypot(x4 * spread);
                // Random amplitudes: Σ over the λT impacts of a_i² (a_i⁴) scatters by
                // var(a²) (var(a⁴)) per impact.
                o.amp_var22 += x2 * x2 * av.v22 / imp.rate_hz;
                o.amp_var44 += x4 * x4 * av.v44 / imp.rate_hz;
                o.amp_var42 += x2 * x4 * av.v42 / imp.rate_hz;
                let top = amp * (1.0 + d) * st.peak * imp.amp_cv;
                if top > o.impact_peak_spread {
                    o.impact_peak_spread = top;
                    // With modulation only the impacts near its top (about a quarter of
                    // the cycle within 15 % of it) can make the window's peak.
                    o.impact_peak_rate = imp.rate_hz / fs * if d > 0.0 { 0.25 } else { 1.0 };
                }
                for (b, e) in o.impact_edge.iter_mut().enumerate() {
                    let edges = spec.edge[b].hypot(spec.edge[b + 1]);
                    *e = e.hypot(amp * amp * edges);
                }
                o.vel2_det += amp * amp * spec.vel2;
                o.amp_var_vel += (amp * amp * spec.vel2).powi(2) * av.v22 / imp.rate_hz;
                o.impact_continuum += amp * amp * spec.low_density;
                o.vel2_det_f2 += amp * amp * spec.vel2_f2;
                // The modulation's own line at fm (counted above as power) is locked to
                // the shaft when fm is a shaft harmonic, as for an inner race turning with
                // the shaft: it then adds to that harmonic in amplitude, not in power. The
                // line is (λ/fs)·A·d·|H(fm)|·cos(2π·fm·t + arg H(fm)) (the modulation
                // 1 + d·cos(2π·fm·τ) starts at t = 0, as `synth` draws it); beside the
                // harmonic A_h·sin(2π·fm·t + φ) it adds A_h·a₀·cos(φ − arg H − π/2) to the
                // mean square. In the fourth moment it meets the impacts' skew: x³ of the
                // train carries a line at fm of a₃ = (λ/fs)·A³·(3d + 3d³/4)·|H₃(fm)| (H₃ the
                // transform of h³), adding 4·E[P·x³] = 2·A_h·a₃·cos(φ − arg H₃ − π/2),
                // ~0.4 % of the fourth moment of an inner race at 0.3. The other cross terms
                // (E[P³·x], the excess of E[P²·x²]) are products of the small harmonics.
                let locked = harmonics.iter().find(|h| {
                    d > 0.0
                        && (h.order as f64 * model.shaft_hz - imp.mod_hz).abs() <= 1e-9 * imp.mod_hz
                });
                if let Some(h) = locked {
                    let f = imp.mod_hz;
                    let (re, im) = spec.fm_line;
                    let a0 = imp.rate_hz / fs * amp * d * re.hypot(im);
                    let psi = im.atan2(re) + std::f64::consts::FRAC_PI_2;
                    let cross = h.amp_g[a] * a0 * (h.phase - psi).cos();
                    o.m2 += cross;
                    o.bands[band_of(f)] += cross;
                    let (re3, im3) = spec.fm_cube;
                    let c1 = 3.0 * d + 0.75 * d.powi(3);
                    let a3 = imp.rate_hz / fs * amp.powi(3) * c1 * re3.hypot(im3);
                    let psi3 = im3.atan2(re3) + std::f64::consts::FRAC_PI_2;
                    o.m4 += 2.0 * h.amp_g[a] * a3 * (h.phase - psi3).cos();
                    if (VEL_LO_HZ..=vel_hi).contains(&f) {
                        let v2 = cross * to_mm_s(f).powi(2);
                        o.vel2_det += v2;
                        o.vel2_det_f2 += v2 / (f * f);
                    }
                }
            }
        }
        // The Gaussian parts (structure and sensor noise) are white before the part's
        // low-pass: a band holds its share of ∫|H|², and the velocity band (where
        // |H| = 1) sees the density σ²/ENBW.
        // Quantisation (`model.white_g2`) comes after the filter: white to Nyquist.
        let white = model.white_g2;
        let shape = match &model.lowpass {
            None => None,
            Some(lp) => {
                if !self
                    .shape
                    .is_some_and(|s| s.cutoff_hz == lp.cutoff_hz && s.fs == lp.fs)
                {
                    self.shape = Some(NoiseShape::of(lp));
                }
                self.shape
            }
        };
        let width = nyq / BANDS as f64;
        let (share, enbw) = match &shape {
            None => ([1.0 / BANDS as f64; BANDS], nyq),
            Some(sh) => (sh.m2.map(|m| m * width / sh.enbw_hz), sh.enbw_hz),
        };
        for (a, o) in out.iter_mut().enumerate() {
            let s2 = sigma[a] * sigma[a];
            o.m4 += 6.0 * o.m2 * s2 + 3.0 * s2 * s2;
            o.m2 += s2;
            o.sigma = sigma[a];
            let shaped = (s2 - white).max(0.0);
            let flat = s2 - shaped;
            for (b, w) in share.iter().enumerate() {
                o.noise_bands[b] = shaped * w + flat / BANDS as f64;
                o.bands[b] += o.noise_bands[b];
                // A band whose density slopes holds fewer independent bins:
                // mean(x)²/mean(x²) of its density x = a·|H|² + w.
                o.noise_flatness[b] = match &shape {
                    None => 1.0,
                    Some(sh) => {
                        let (a, wd) = (shaped / sh.enbw_hz, flat / nyq);
                        let mean = a * sh.m2[b] + wd;
                        let sq = a * a * sh.m4[b] + 2.0 * a * wd * sh.m2[b] + wd * wd;
                        if sq > 0.0 {
                            (mean * mean / sq).clamp(1e-3, 1.0)
                        } else {
                            1.0
                        }
                    }
                };
            }
            o.noise_density = shaped / enbw + flat / nyq;
            // Noise of one-sided PSD σ²/ENBW in the band, weighted by 1/(2πf)²:
            // ∫ f⁻² df = 1/f_lo − 1/f_hi.
            let k = (STANDARD_GRAVITY * 1e3 / std::f64::consts::TAU).powi(2);
            o.vel2_noise = o.noise_density * k * (1.0 / VEL_LO_HZ - 1.0 / vel_hi).max(0.0);
        }
        out
    }

    /// Expected features of an axis from its moments, for a window of `n` samples.
    pub fn expected(m: &AxisMoments, n: usize) -> AxisFeatures {
        let rms = m.m2.max(0.0).sqrt();
        let n = n as f64;
        // The window's largest impact: E[max of K normals] ≈ E[max |Z| of K/2].
        let impacts = n * m.impact_peak_rate;
        let lift = if impacts >= 2.0 {
            m.impact_peak_spread * expected_abs_max(impacts / 2.0)
        } else {
            0.0
        };
        let peak_det = m.peak_det + lift;
        let peak = if m.sigma <= 0.0 {
            peak_det
        } else {
            (peak_det + m.sigma * expected_abs_max(n / 50.0)).max(m.sigma * expected_abs_max(n))
        };
        AxisFeatures {
            rms_g: rms,
            peak_g: peak,
            crest: if rms > 0.0 { peak / rms } else { 0.0 },
            kurtosis: if m.m2 > 0.0 {
                m.m4 / (m.m2 * m.m2)
            } else {
                0.0
            },
            vel_rms_mm_s: (m.vel2_det + m.vel2_noise).sqrt(),
            bands_g2: m.bands,
        }
    }

    /// Standard deviation of each feature's estimate from one window of `n` samples
    /// at `fs` (what a real node's numbers scatter by from window to window).
    pub fn estimator_std(m: &AxisMoments, n: usize, fs: f64) -> AxisFeatures {
        let e = Self::expected(m, n);
        let nf = n.max(2) as f64;
        // var(m2̂) ≈ (m4 − m2²)/N of the random (Gaussian) part; the shaft-locked part
        // of the signal does not scatter, the impacts do by their count.
        let s2 = m.sigma * m.sigma;
        // A window of T = N/fs seconds holds ⌊λT⌋ or ⌈λT⌉ impacts of a train; over
        // the train's phase the count varies by f·(1 − f) for fractional part f, 1/6 on
        // average: var += (impact_grain/T)²/6.
        let grain = m.impact_grain * fs / nf;
        let window_s = nf / fs;
        let var_m2 = (3.0 * s2 * s2 - s2 * s2 + 4.0 * s2 * (m.m2 - s2).max(0.0)) / nf
            + grain * grain / 6.0
            + m.amp_var22 / window_s;
        let rms_std = if e.rms_g > 0.0 {
            var_m2.sqrt() / (2.0 * e.rms_g)
        } else {
            0.0
        };
        let kurt_std = Self::kurtosis_std(m, nf, grain, window_s);
        // The maximum of N Gaussian draws has Gumbel spread π/√6 / √(2 ln N); so has
        // the largest of K random impact amplitudes.
        let gumbel = |k: f64| std::f64::consts::PI / 6f64.sqrt() / (2.0 * k.max(2.0).ln()).sqrt();
        let impacts = nf * m.impact_peak_rate;
        let peak_std = (m.sigma * gumbel(nf)).hypot(if impacts >= 2.0 {
            m.impact_peak_spread * gumbel(impacts)
        } else {
            0.0
        });
        let crest_std = if e.rms_g > 0.0 {
            e.crest
                * ((peak_std / e.peak_g.max(1e-30)).powi(2) + (rms_std / e.rms_g).powi(2)).sqrt()
        } else {
            0.0
        };
        // Velocity: a weighted sum of bin powers p_k with weights w_k = K/f_k². White
        // noise makes each bin scatter by its own mean pn = 2σ²/N, and Hann-windowed
        // bins overlap (HANN_BIN_OVERLAP): var = 35/18 · Σ (w_k·pn)² ≈ 35/18 · (pn·K)²/df ·
        // ∫ f⁻⁴ df. A deterministic line of power P beside the noise scatters through
        // the cross term 2·Re(S*·N): var = 35/9 · w²·P·pn = 35/9 · pn·K · v²_line/f².
        let df = fs / nf;
        let nyq = fs / 2.0;
        let hi = VEL_HI_HZ.min(nyq);
        let k = (STANDARD_GRAVITY * 1e3 / std::f64::consts::TAU).powi(2);
        // Impacts of random amplitude (and jitter) add a continuum of their own, which
        // scatters from bin to bin as noise does: their density joins the noise's.
        let bin = (m.noise_density + m.impact_continuum) * df;
        let var_v2 = HANN_BIN_OVERLAP * (bin * k).powi(2) / df / 3.0
            * (VEL_LO_HZ.powi(-3) - hi.powi(-3)).max(0.0)
            + 2.0 * HANN_BIN_OVERLAP * bin * k * m.vel2_det_f2
            + m.amp_var_vel / window_s;
        let vel_std = if e.vel_rms_mm_s > 0.0 {
            var_v2.sqrt() / (2.0 * e.vel_rms_mm_s)
        } else {
            0.0
        };
        // Bands: the same two terms over the band's bins (noise² and noise × the rest).
        let bins_per_band = (nf / 2.0 / BANDS as f64).max(1.0);
        let mut bands = [0.0; BANDS];
        // Impacts: a band's energy is the sum of each impact's share plus, where a band
        // edge f_e cuts their (jitter-incoherent) spectrum, cross terms between impacts
        // Δ apart of ±S₁(f_e)·sin(2π·f_e·Δ)/(π·Δ); over the λT impacts and all lags
        // m/λ (Σ 1/m² = π²/6) these add to var = E[A²]²·S₁²·λ³/(12·T) per edge, times
        // 35/18 for the Hann weighting. (The Hann taper also smooths away the count
        // granularity that scatters the rectangular-window mean square.)
        for (((((b, s), e), v), noise), flat) in bands
            .iter_mut()
            .zip(m.bands)
            .zip(m.impact_edge)
            .zip(m.amp_var_bands)
            .zip(m.noise_bands)
            .zip(m.noise_flatness)
        {
            let bins_per_band = bins_per_band * flat;
            let var = HANN_BIN_OVERLAP * noise * (noise + 2.0 * (s - noise).max(0.0));
            let edge = HANN_BIN_OVERLAP * e * e / (12.0 * window_s);
            *b = (var / bins_per_band + edge + v / window_s).sqrt();
        }
        AxisFeatures {
            rms_g: rms_std,
            peak_g: peak_std,
            crest: crest_std,
            kurtosis: kurt_std,
            vel_rms_mm_s: vel_std,
            bands_g2: bands,
        }
    }

    /// Standard deviation of the kurtosis of one window of `nf` samples, by the delta
    /// method: k̂ = m̂4/m̂2², so δk = (δm4 − 2k·m2·δm2)/m2². The signal is x = d + g,
    /// with g the Gaussian part (σ) and d the rest (centred moments E2, E4, E6),
    /// independent; per sample, δm2 = 2dg + (g² − σ²) and δm4 = 4d³g + 6d²(g² − σ²) +
    /// 4dg³ + (g⁴ − 3σ⁴). With c = 2k·m2, the part odd in g, dg·(4d² + 4g² − 2c), and
    /// the even part, (6d² − c)(g² − σ²) + (g⁴ − 3σ⁴), are uncorrelated; their mean
    /// squares (Gaussian moments 3σ⁴, 15σ⁶, 105σ⁸) give the variance, N·m2⁴·var(k̂).
    /// E6 is bounded by peak²·E4 (|d| never exceeds the deterministic peak). For d = 0
    /// this is the textbook 24/N. A window holding one impact more or less moves m2
    /// and m4 together (`grain`, `impact_grain4`); impacts of random amplitude move
    /// them together too (`amp_var*`): δm4 − c·δm2 of the impacts' own moments, where
    /// m4 also carries 6·σ²·m2 of them (c' = c − 6σ²).
    fn kurtosis_std(m: &AxisMoments, nf: f64, grain: f64, window_s: f64) -> f64 {
        if m.m2 <= 0.0 {
            return 0.0;
        }
        let s2 = m.sigma * m.sigma;
        let e2 = (m.m2 - s2).max(0.0);
        let e4 = (m.m4 - 6.0 * e2 * s2 - 3.0 * s2 * s2).max(0.0);
        let e6 = m.peak_det * m.peak_det * e4;
        let k = m.m4 / (m.m2 * m.m2);
        let c = 2.0 * k * m.m2;
        let odd =
            16.0 * s2 * e6 + 240.0 * s2.powi(3) * e2 + 4.0 * c * c * s2 * e2 + 96.0 * s2 * s2 * e4
                - 16.0 * c * s2 * e4
                - 48.0 * c * s2 * s2 * e2;
        let even = (36.0 * e4 - 12.0 * c * e2 + c * c) * 2.0 * s2 * s2
            + (6.0 * e2 - c) * 24.0 * s2.powi(3)
            + 96.0 * s2.powi(4);
        let noise = (odd + even).max(0.0) / (nf * m.m2.powi(4));
        // grain = impact_grain·fs/N (mean square of one impact); likewise for m4.
        let grain4 = if m.impact_grain > 0.0 {
            m.impact_grain4 * grain / m.impact_grain
        } else {
            0.0
        };
        let count = (grain4 - c * grain) / (m.m2 * m.m2);
        let c1 = c - 6.0 * s2;
        let amp = (m.amp_var44 - 2.0 * c1 * m.amp_var42 + c1 * c1 * m.amp_var22).max(0.0)
            / window_s
            / m.m2.powi(4);
        (noise + count * count / 6.0 + amp).sqrt()
    }

    /// One window's features: the expectation plus estimator noise drawn from `rng`.
    pub fn sample(m: &AxisMoments, n: usize, fs: f64, rng: &mut impl rand::Rng) -> AxisFeatures {
        let e = Self::expected(m, n);
        let s = Self::estimator_std(m, n, fs);
        let mut z = || -> f64 { rng.sample(StandardNormal) };
        let rms = (e.rms_g + s.rms_g * z()).max(0.0);
        let peak = (e.peak_g + s.peak_g * z()).max(rms);
        let mut bands = e.bands_g2;
        for (b, sd) in bands.iter_mut().zip(s.bands_g2) {
            *b = (*b + sd * z()).max(0.0);
        }
        AxisFeatures {
            rms_g: rms,
            peak_g: peak,
            crest: if rms > 0.0 { peak / rms } else { 0.0 },
            kurtosis: (e.kurtosis + s.kurtosis * z()).max(1.0),
            vel_rms_mm_s: (e.vel_rms_mm_s + s.vel_rms_mm_s * z()).max(0.0),
            bands_g2: bands,
        }
    }
}
