package bot

import "p2pa/game"

// tapeLen is how many of the latest moves a Tape remembers: far more than a match ever
// goes back (a rejoin resumes at most a prediction window and an input delay behind the
// last frame asked).
const tapeLen = 256

// Tape gives a bot's moves by match frame rather than by call. A fresh bot's k-th move is
// for frame first+k, as it always was, so a match nobody leaves plays exactly what it
// played before. What the tape adds:
//
//   - a frame asked again gets the move it got the first time: after a rejoin the match
//     resumes at a frame the survivors had already played (on predictions) and asks their
//     inputs from there again;
//   - a process that rejoins at frame F skips the bot to F, so it plays what it would
//     have played there had it never died.
//
// Both make a seeded bot match end on the same checksum whether or not a player was
// killed and rejoined (every frame of it then runs on the inputs it would have run on).
type Tape struct {
	bot  *Bot
	next int // the frame the bot's next move is for
	ring [tapeLen]game.Input
}

// NewTape is b's moves by frame, the first one for frame first (the match's input delay:
// the frames before it run with no input).
func NewTape(b *Bot, first int) *Tape { return &Tape{bot: b, next: first} }

// At is the bot's move for frame f.
func (t *Tape) At(f int) game.Input {
	if f < t.next {
		if t.next-f <= tapeLen {
			return t.ring[f%tapeLen]
		}
		return t.bot.Next() // older than the tape: cannot happen in a match; keep playing
	}
	for t.next <= f {
		t.ring[t.next%tapeLen] = t.bot.Next()
		t.next++
	}
	return t.ring[f%tapeLen]
}
