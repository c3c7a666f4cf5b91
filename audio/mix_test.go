package audio

import "testing"

func TestMixMinus(t *testing.T) {
	const rate, n = 16000, 3200
	freqs := []float64{500, 700, 1100, 1300} // four far parties
	micF := 300.0
	mic := sine(rate, micF, 0.1, n, 0)
	far := make([][]float32, len(freqs))
	tx := make([][]float32, len(freqs))
	for i, f := range freqs {
		far[i] = sine(rate, f, 0.1, n, 0)
		tx[i] = make([]float32, n)
	}
	spk := make([]float32, n)
	MixMinus(mic, far, spk, tx)
	for i := range freqs {
		if l := toneLevel(spk, rate, freqs[i]); l < 0.09 {
			t.Errorf("agent does not hear party %d (%.3f)", i, l)
		}
		if l := toneLevel(tx[i], rate, freqs[i]); l > 1e-4 {
			t.Errorf("party %d hears itself (%.5f)", i, l)
		}
		if l := toneLevel(tx[i], rate, micF); l < 0.09 {
			t.Errorf("party %d does not hear the agent (%.3f)", i, l)
		}
		for k := range freqs {
			if k != i && toneLevel(tx[i], rate, freqs[k]) < 0.09 {
				t.Errorf("party %d does not hear party %d", i, k)
			}
		}
	}
	if l := toneLevel(spk, rate, micF); l > 1e-4 {
		t.Errorf("agent hears own microphone (%.5f)", l)
	}
}

func TestLimit(t *testing.T) {
	for _, x := range []float32{-10, -2, -0.95, 0, 0.5, 0.95, 2, 10} {
		y := limit(x)
		if y > 1 || y < -1 {
			t.Fatalf("limit(%v) = %v", x, y)
		}
		if x > -0.9 && x < 0.9 && y != x {
			t.Fatalf("limit(%v) = %v, want linear", x, y)
		}
	}
}
