package urlevents

import "sync"

// queue hands links to a callback in order on one goroutine, without
// blocking the sender and without dropping any.
type queue struct {
	mu      sync.Mutex
	pending []string
	wake    chan struct{}
}

func newQueue(handle func(string)) *queue {
	q := &queue{wake: make(chan struct{}, 1)}
	go func() {
		for range q.wake {
			for {
				q.mu.Lock()
				if len(q.pending) == 0 {
					q.mu.Unlock()
					break
				}
				u := q.pending[0]
				q.pending = q.pending[1:]
				q.mu.Unlock()
				handle(u)
			}
		}
	}()
	return q
}

// push queues u; it never blocks.
func (q *queue) push(u string) {
	q.mu.Lock()
	q.pending = append(q.pending, u)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending; the loop drains the whole queue
	}
}
