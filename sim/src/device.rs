//! A device's acquisition: each sensor samples the machine in its state, at its
//! rate and range, with its noise and any sensor fault, and the edge turns the
//! window into features.

use rand::rngs::ChaCha8Rng;

use crate::edge::spectral::{AxisFeatures, SpectralAnalyzer};
use crate::edge::{AxisReading, Values, Zone};
use crate::faults::SensorFault;
use crate::plant::MachineState;
use crate::scenario::{Ambient, Axes, Mounting, Sensor, Vertical};
use crate::sensors::lowpass::{Lowpass, WARM_UP};
use crate::sensors::{Chain, Measures};
use crate::signal::moments::{Analytic, AxisMoments};
use crate::signal::synth::Synth;
use crate::signal::{AXES, VibrationModel};
use crate::time::SimTime;

/// How features are produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fidelity {
    /// Synthesise samples and compute features from them.
    Raw,
    /// Compute features from the signal model's moments plus estimator noise (a
    /// vibration window that may clip is synthesised: clipping has no closed form).
    #[default]
    Features,
}

impl Fidelity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Fidelity::Raw => "raw",
            Fidelity::Features => "features",
        }
    }
}

/// Sound pressure at the microphone per g of housing vibration, Pa/g (a radiating
/// machine surface heard from about 1 m).
pub const PA_PER_G: f64 = 0.2;
/// Background sound of a factory hall, Pa RMS (55 dB SPL).
pub const FACTORY_NOISE_PA: f64 = 0.011_25;
/// Reference pressure of dB SPL, Pa.
pub const P_REF_PA: f64 = 20e-6;

/// Simulation state of one configured sensor.
pub struct SensorSim {
    /// Configuration.
    pub config: Sensor,
    /// Acquisition chain.
    pub chain: Chain,
    /// The sensor's own random stream (noise, estimator scatter, fault effects).
    pub rng: ChaCha8Rng,
    analyzer: SpectralAnalyzer,
    analytic: Analytic,
    synth: Synth,
    buf: [Vec<f64>; AXES],
    /// Value frozen by a stuck-at fault (scalar sensors).
    frozen: Option<f64>,
    /// Whether acquired samples are kept for [`SensorSim::take_raw`].
    keep_raw: bool,
    /// The last window's samples, when kept.
    raw: Option<RawSamples>,
    /// Static acceleration on each axis, g: +1 on the axis that points up.
    gravity: [f64; AXES],
    /// The part's digital low-pass, where its band ends below Nyquist.
    lowpass: Option<Lowpass>,
    /// Pre-filter RMS of white noise per RMS after the filter, √(nyquist / ENBW).
    white_scale: f64,
    /// Scratch for the noise of one axis (warm-up plus window).
    noise: Vec<f64>,
}

/// Samples of one acquisition window, one channel per axis (x, y, z), in the
/// sensor's physical unit after its acquisition chain and any sensor fault:
/// g for accelerometers (the axes the sensor measures), Pa for microphones,
/// and for slow sensors the window's single reading (°C, %RH, hPa) — single-
/// channel sensors use channel x. A channel is `None` when the sensor does not
/// measure it or delivered nothing (dropout).
pub type RawSamples = [Option<Vec<f64>>; AXES];

/// What the sensor is acquiring under.
pub struct Conditions<'a> {
    /// Machine state.
    pub state: &'a MachineState,
    /// Vibration model of the machine in that state.
    pub model: &'a VibrationModel,
    /// Ambient.
    pub ambient: Ambient,
    /// Window start.
    pub t: SimTime,
    /// Samples per vibration window.
    pub window_samples: usize,
    /// Active fault on this sensor and its start.
    pub fault: Option<(&'a SensorFault, SimTime)>,
}

impl SensorSim {
    /// A sensor with its chain drawn from `rng`.
    pub fn new(config: Sensor, mut rng: ChaCha8Rng) -> SensorSim {
        let chain = Chain::new(config.part, config.odr_hz, config.full_scale, &mut rng);
        let spec = config.part.spec();
        let lowpass = match spec.measures {
            Measures::Vibration => Lowpass::new((spec.enbw_hz)(config.odr_hz), config.odr_hz),
            _ => None,
        };
        let white_scale = lowpass.map_or(1.0, |l| (config.odr_hz / 2.0 / l.enbw_hz()).sqrt());
        SensorSim {
            chain,
            rng,
            analyzer: SpectralAnalyzer::new(),
            analytic: Analytic::new(),
            synth: Synth::new(),
            buf: Default::default(),
            frozen: None,
            keep_raw: false,
            raw: None,
            lowpass,
            white_scale,
            noise: Vec::new(),
            gravity: match (spec.measures, config.vertical) {
                (Measures::Vibration, Vertical::X) => [1.0, 0.0, 0.0],
                (Measures::Vibration, Vertical::Y) => [0.0, 1.0, 0.0],
                (Measures::Vibration, Vertical::Z) => [0.0, 0.0, 1.0],
                _ => [0.0; AXES],
            },
            config,
        }
    }

    /// Keeps (or stops keeping) each acquired window's samples for
    /// [`SensorSim::take_raw`]. Samples exist only where a window is
    /// synthesised: every window in [`Fidelity::Raw`], every scalar reading.
    /// Keeping them draws nothing from the random stream, so values are the
    /// same either way.
    pub fn keep_raw(&mut self, keep: bool) {
        self.keep_raw = keep;
        self.raw = None;
    }

    /// The samples of the last acquired window, if kept (see [`SensorSim::keep_raw`]).
    pub fn take_raw(&mut self) -> Option<RawSamples> {
        self.raw.take()
    }

    fn keep(&mut self, axis: usize, xs: &[f64]) {
        if let Some(raw) = &mut self.raw {
            raw[axis] = Some(xs.to_vec());
        }
    }

    fn axes(&self) -> &'static [usize] {
        match self.config.axes {
            Axes::Xyz => &[0, 1, 2],
            Axes::X => &[0],
            Axes::Y => &[1],
            Axes::Z => &[2],
        }
    }

    /// Acquires one window and returns the sensor's values.
    pub fn acquire(&mut self, c: &Conditions, fidelity: Fidelity) -> Values {
        if !c
            .fault
            .is_some_and(|(f, _)| matches!(f, SensorFault::StuckAt))
        {
            self.frozen = None;
        }
        self.raw = self.keep_raw.then(RawSamples::default);
        match self.config.part.spec().measures {
            Measures::Vibration => self.vibration(c, fidelity),
            Measures::Sound => self.sound(c, fidelity),
            Measures::Temperature => {
                let v = self.scalar(c, c.state.temperature_c);
                v.map_or(Values::Missing, |celsius| Values::Temperature { celsius })
            }
            Measures::Humidity => {
                // Air at the node is warmed by the machine; relative humidity falls about
                // 6 % per °C (Magnus: saturation pressure grows ~6 %/°C near 20 °C).
                let air = c.ambient.celsius + 0.3 * (c.state.temperature_c - c.ambient.celsius);
                let rh = (c.ambient.rh_pct * (-0.06 * (air - c.ambient.celsius)).exp())
                    .clamp(0.0, 100.0);
                match self.scalar(c, rh) {
                    Some(rh_pct) => Values::Humidity {
                        rh_pct,
                        celsius: self.chain_temperature(air),
                    },
                    None => Values::Missing,
                }
            }
            Measures::Pressure => self
                .scalar(c, c.ambient.hpa)
                .map_or(Values::Missing, |hpa| Values::Pressure { hpa }),
        }
    }

    fn chain_temperature(&mut self, celsius: f64) -> f64 {
        // HTS221 temperature channel: 0.5 °C accuracy, 16-bit; reported to 0.01 °C.
        (celsius * 100.0).round() / 100.0
    }

    fn scalar(&mut self, c: &Conditions, truth: f64) -> Option<f64> {
        let value = self.scalar_value(c, truth);
        if let Some(v) = value {
            self.keep(0, &[v]);
        }
        value
    }

    fn scalar_value(&mut self, c: &Conditions, truth: f64) -> Option<f64> {
        let measured = self.chain.measure(truth, &mut self.rng);
        match c.fault {
            None => Some(measured),
            Some((fault, start)) => {
                let hours = c.t.since(start).as_secs_f64() / 3600.0;
                let frozen = *self.frozen.get_or_insert(measured);
                fault
                    .apply_scalar(
                        measured,
                        hours,
                        frozen,
                        self.chain.sigma,
                        self.config.full_scale,
                        &mut self.rng,
                    )
                    .map(|x| self.chain.quantise(x))
            }
        }
    }

    fn gauss_sigma(&self, model: &VibrationModel, axis: usize, scale: f64) -> f64 {
        let bb = model.broadband_g[axis] * scale;
        (bb * bb + self.chain.sigma * self.chain.sigma + self.chain.lsb * self.chain.lsb / 12.0)
            .sqrt()
    }

    /// The model as this sensor sees it: through the part's low-pass where it has
    /// one (lines scaled by |H|, impacts ringing through it), else without what
    /// lies above its bandwidth; a magnet mount's resonance (~2 kHz) halves what
    /// lies above it.
    pub fn seen_model(&self, model: &VibrationModel) -> VibrationModel {
        let mut m = model.clone();
        match &self.lowpass {
            Some(lp) => {
                let fr = m.shaft_hz;
                for h in &mut m.harmonics {
                    let g = lp.mag2(h.order as f64 * fr).sqrt();
                    h.amp_g.iter_mut().for_each(|a| *a *= g);
                }
                for t in &mut m.tones {
                    let g = lp.mag2(t.freq_hz).sqrt();
                    t.amp_g.iter_mut().for_each(|a| *a *= g);
                }
                m.lowpass = Some(*lp);
                m.white_g2 = self.chain.lsb * self.chain.lsb / 12.0;
            }
            None => {
                let nyq = self.config.odr_hz / 2.0;
                let bw = (self.config.part.spec().enbw_hz)(self.config.odr_hz).min(nyq);
                m.impacts.retain(|i| i.resonance_hz < bw);
            }
        }
        if self.config.mounting == Mounting::Magnet {
            for i in &mut m.impacts {
                i.amp_g.iter_mut().for_each(|a| *a *= 0.5);
            }
        }
        m
    }

    fn vibration(&mut self, c: &Conditions, fidelity: Fidelity) -> Values {
        let fs = self.config.odr_hz;
        let n = c.window_samples;
        let model = self.seen_model(c.model);
        let fault = c.fault;
        let hours = fault.map_or(0.0, |(_, s)| c.t.since(s).as_secs_f64() / 3600.0);
        if matches!(fault, Some((SensorFault::Dropout, _))) {
            return Values::Missing;
        }
        let axes = self.axes();
        let mut readings = Vec::with_capacity(axes.len());
        match fidelity {
            Fidelity::Raw => {
                let mut buf = std::mem::take(&mut self.buf);
                self.synth
                    .burst(&model, c.t.as_secs_f64(), fs, n, &mut buf, &mut self.rng);
                for &a in axes {
                    let bb = model.broadband_g[a];
                    let sigma = (bb * bb + self.chain.sigma * self.chain.sigma).sqrt();
                    // White before the low-pass, at the in-band density that gives
                    // `sigma` through it; run in from rest for WARM_UP samples.
                    let noise = &mut self.noise;
                    noise.clear();
                    let (lead, white) = match &self.lowpass {
                        Some(_) => (WARM_UP, sigma * self.white_scale),
                        None => (0, sigma),
                    };
                    for _ in 0..n + lead {
                        let z: f64 =
                            rand::RngExt::sample(&mut self.rng, rand_distr::StandardNormal);
                        noise.push(white * z);
                    }
                    if let Some(lp) = &self.lowpass {
                        lp.apply(noise);
                    }
                    let xs = &mut buf[a];
                    for (x, z) in xs.iter_mut().zip(&noise[lead..]) {
                        *x = self
                            .chain
                            .quantise(*x + self.chain.offset + self.gravity[a] + z);
                    }
                    if let Some((f, _)) = fault {
                        f.apply_samples(
                            xs,
                            fs,
                            hours,
                            sigma,
                            self.config.full_scale,
                            &mut self.rng,
                        );
                        xs.iter_mut().for_each(|x| *x = self.chain.quantise(*x));
                    }
                    let features = self.analyzer.axis_features(xs, fs);
                    if let Some(raw) = &mut self.raw {
                        raw[a] = Some(xs.clone());
                    }
                    readings.push(AxisReading {
                        axis: axis_name(a),
                        features,
                    });
                }
                self.buf = buf;
            }
            Fidelity::Features => {
                let sigma = [0, 1, 2].map(|a| self.gauss_sigma(&model, a, 1.0));
                let moments = self.analytic.moments(&model, fs, sigma);
                let faulted: Vec<(usize, AxisMoments)> = axes
                    .iter()
                    .map(|&a| {
                        let mut m = moments[a];
                        if let Some((f, _)) = fault {
                            faulted_moments(f, &mut m, fs);
                        }
                        (a, m)
                    })
                    .collect();
                // Clipping has no closed form on moments (it takes 30 % off the rms and
                // half the kurtosis of a bearing ringing 3× past the clip, but only a few
                // % off its velocity): a window whose peak may reach the clip level is
                // synthesised instead.
                if faulted
                    .iter()
                    .any(|(a, m)| self.may_clip(*a, m, n, hours, fault))
                {
                    return self.vibration(c, Fidelity::Raw);
                }
                for (a, m) in faulted {
                    let mut features = Analytic::sample(&m, n, fs, &mut self.rng);
                    if let Some((f, _)) = fault {
                        f.apply_features(&mut features, m.sigma, self.config.full_scale);
                    }
                    // No excursion from the window's mean goes past the output word.
                    let dc = self.chain.offset + self.gravity[a];
                    let reach = (self.chain.max - dc).max(dc - self.chain.min);
                    if features.peak_g > reach {
                        features.peak_g = reach;
                        features.crest = if features.rms_g > 0.0 {
                            reach / features.rms_g
                        } else {
                            0.0
                        };
                    }
                    readings.push(AxisReading {
                        axis: axis_name(a),
                        features,
                    });
                }
            }
        }
        let vel = readings
            .iter()
            .map(|r| r.features.vel_rms_mm_s)
            .fold(0.0, f64::max);
        Values::Vibration {
            axes: readings,
            vel_rms_mm_s: vel,
            zone: Zone::A, // set by the device from its machine's limits
        }
    }

    /// Whether a window with moments `m` may reach the clip level: the part's full
    /// scale, or a saturation fault's fraction of it. The expected peak, 4 standard
    /// deviations up, scaled by a gain fault and shifted by any DC (gravity on the
    /// vertical axis, the unit's offset, a bias or drift fault), is compared with it.
    fn may_clip(
        &self,
        axis: usize,
        m: &AxisMoments,
        n: usize,
        hours: f64,
        fault: Option<(&SensorFault, SimTime)>,
    ) -> bool {
        let fs = self.config.odr_hz;
        let peak = Analytic::expected(m, n).peak_g + 4.0 * Analytic::estimator_std(m, n, fs).peak_g;
        let (mut gain, mut shift, mut clip) =
            (1.0, (self.chain.offset + self.gravity[axis]).abs(), 1.0);
        match fault.map(|(f, _)| f) {
            Some(SensorFault::Gain { factor }) => gain = factor.abs(),
            Some(SensorFault::Bias { offset }) => shift += offset.abs(),
            Some(SensorFault::Drift { per_hour }) => shift += (per_hour * hours).abs(),
            Some(SensorFault::Saturation { fraction }) => clip = fraction.clamp(0.0, 1.0),
            _ => {}
        }
        peak * gain + shift >= self.chain.max * clip
    }

    fn sound(&mut self, c: &Conditions, fidelity: Fidelity) -> Values {
        if matches!(c.fault, Some((SensorFault::Dropout, _))) {
            return Values::Missing;
        }
        let fs = self.config.odr_hz;
        let n = c.window_samples.min((fs * 1.0) as usize).max(256);
        let mut model = self.seen_model(c.model);
        scale_model(&mut model, PA_PER_G);
        let sigma = {
            let bb = model.broadband_g[0];
            (bb * bb + FACTORY_NOISE_PA * FACTORY_NOISE_PA + self.chain.sigma * self.chain.sigma)
                .sqrt()
        };
        let f: AxisFeatures = match fidelity {
            Fidelity::Raw => {
                let mut buf = std::mem::take(&mut self.buf);
                self.synth
                    .burst(&model, c.t.as_secs_f64(), fs, n, &mut buf, &mut self.rng);
                let xs = &mut buf[0];
                for x in xs.iter_mut() {
                    let z: f64 = rand::RngExt::sample(&mut self.rng, rand_distr::StandardNormal);
                    *x = self.chain.quantise(*x + sigma * z);
                }
                if let Some((fault, start)) = c.fault {
                    let hours = c.t.since(start).as_secs_f64() / 3600.0;
                    fault.apply_samples(
                        xs,
                        fs,
                        hours,
                        sigma,
                        self.config.full_scale,
                        &mut self.rng,
                    );
                }
                let f = self.analyzer.axis_features(xs, fs);
                self.keep(0, xs);
                self.buf = buf;
                f
            }
            Fidelity::Features => {
                let mut m = self.analytic.moments(&model, fs, [sigma; AXES])[0];
                if let Some((fault, _)) = c.fault {
                    faulted_moments(fault, &mut m, fs);
                }
                let mut f = Analytic::sample(&m, n, fs, &mut self.rng);
                if let Some((fault, _)) = c.fault {
                    fault.apply_features(&mut f, m.sigma, self.config.full_scale);
                }
                f
            }
        };
        let spl = if f.rms_g > 0.0 {
            20.0 * (f.rms_g / P_REF_PA).log10()
        } else {
            0.0
        };
        Values::Sound {
            spl_db: spl,
            peak_pa: f.peak_g,
        }
    }
}

/// Sensor faults that change the moments (not just the features) of a window.
fn faulted_moments(f: &SensorFault, m: &mut AxisMoments, fs: f64) {
    match f {
        SensorFault::Noise { factor } => {
            let extra = m.sigma * m.sigma * (factor * factor - 1.0).max(0.0);
            m.m4 += 6.0 * m.m2 * extra + 3.0 * extra * extra;
            m.m2 += extra;
            m.vel2_noise *= factor * factor;
            let share = extra / m.bands.len() as f64;
            m.bands.iter_mut().for_each(|b| *b += share);
            m.sigma *= factor;
        }
        SensorFault::Spikes { rate_hz, amplitude } => {
            // Single-sample spikes of ±A at rate r: E[x²] += (r/fs)·A², E[x⁴] += (r/fs)·A⁴.
            let p = (rate_hz / fs).clamp(0.0, 1.0);
            let (x2, x4) = (p * amplitude * amplitude, p * amplitude.powi(4));
            m.m4 += 6.0 * m.m2 * x2 + x4;
            m.m2 += x2;
            let share = x2 / m.bands.len() as f64;
            m.bands.iter_mut().for_each(|b| *b += share);
            if rate_hz * 1.0 >= 1.0 {
                m.peak_det = m.peak_det.max(*amplitude + m.peak_det);
            }
        }
        _ => {}
    }
}

fn scale_model(m: &mut VibrationModel, k: f64) {
    for h in &mut m.harmonics {
        h.amp_g.iter_mut().for_each(|a| *a *= k);
    }
    for t in &mut m.tones {
        t.amp_g.iter_mut().for_each(|a| *a *= k);
    }
    for i in &mut m.impacts {
        i.amp_g.iter_mut().for_each(|a| *a *= k);
    }
    m.broadband_g.iter_mut().for_each(|a| *a *= k);
}

fn axis_name(a: usize) -> char {
    ['x', 'y', 'z'][a.min(2)]
}
