package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/trainbot/trainbot/trains"
)

// sweepClaims is how many expired claims a Claim deletes at most, so that
// claims do not pile up and no one transaction grows large.
const sweepClaims = 64

func checkTTL(what string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("%s: the ttl must be at least 1ms, got %s", what, ttl)
	}
	return nil
}

// Claim takes an operation key: true for the first caller until ttl passes.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkTTL("claim "+key, ttl); err != nil {
		return false, err
	}
	var ok bool
	err := s.update(ctx, "claim "+key, func(tx *bbolt.Tx) error {
		now := s.clock.Now()
		claims, byExpiry := tx.Bucket(bClaims), tx.Bucket(bClaimsExpiry)
		if err := sweep(claims, byExpiry, now); err != nil {
			return err
		}
		if v := claims.Get([]byte(key)); v != nil {
			if now.Before(timeOf(v)) {
				return nil
			}
			if err := byExpiry.Delete(append(bytes.Clone(v), key...)); err != nil {
				return err
			}
		}
		exp := timeKey(now.Add(ttl), nil)
		if err := claims.Put([]byte(key), exp); err != nil {
			return err
		}
		ok = true
		return byExpiry.Put(append(exp, key...), []byte(key))
	})
	return ok, err
}

// sweep deletes up to sweepClaims claims that expired at now.
func sweep(claims, byExpiry *bbolt.Bucket, now time.Time) error {
	c := byExpiry.Cursor()
	for range sweepClaims {
		k, v := c.First()
		if k == nil || now.Before(timeOf(k)) {
			return nil
		}
		key, exp := bytes.Clone(v), bytes.Clone(k[:12])
		if err := c.Delete(); err != nil {
			return err
		}
		if bytes.Equal(claims.Get(key), exp) {
			if err := claims.Delete(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// Unclaim gives a key back.
func (s *Store) Unclaim(ctx context.Context, key string) error {
	return s.update(ctx, "unclaim "+key, func(tx *bbolt.Tx) error {
		claims := tx.Bucket(bClaims)
		v := claims.Get([]byte(key))
		if v == nil {
			return nil
		}
		if err := tx.Bucket(bClaimsExpiry).Delete(append(bytes.Clone(v), key...)); err != nil {
			return err
		}
		return claims.Delete([]byte(key))
	})
}

// TryLease takes the named lease for holder for ttl. When anyone holds it,
// the caller included, ok is false and the returned Lease is the current
// one: a holder extends its lease with RenewLease.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (trains.Lease, bool, error) {
	if err := checkTTL("take lease "+name, ttl); err != nil {
		return trains.Lease{}, false, err
	}
	var l trains.Lease
	var ok bool
	err := s.update(ctx, "take lease "+name, func(tx *bbolt.Tx) error {
		now := s.clock.Now()
		leases := tx.Bucket(bLeases)
		held, err := get(leases, []byte(name), "lease "+name, &l)
		if err != nil || (held && now.Before(l.Expiry)) {
			return err
		}
		fences := tx.Bucket(bFences)
		var last uint64
		if v := fences.Get([]byte(name)); len(v) == 8 {
			last = binary.BigEndian.Uint64(v)
		}
		if err := fences.Put([]byte(name), u64(last+1)); err != nil {
			return err
		}
		l = trains.Lease{Name: name, Holder: holder, Token: int64(last + 1), Expiry: now.Add(ttl)}
		ok = true
		return put(leases, []byte(name), l)
	})
	if err != nil {
		return trains.Lease{}, false, err
	}
	return l, ok, nil
}

// heldWith returns the stored lease when it is held with l's token and
// holder now, else ErrLeaseLost.
func (s *Store) heldWith(tx *bbolt.Tx, l trains.Lease) (trains.Lease, error) {
	var cur trains.Lease
	ok, err := get(tx.Bucket(bLeases), []byte(l.Name), "lease "+l.Name, &cur)
	if err != nil {
		return cur, err
	}
	if !ok || cur.Token != l.Token || cur.Holder != l.Holder || !s.clock.Now().Before(cur.Expiry) {
		return cur, fmt.Errorf("lease %s (token %d, %s): %w", l.Name, l.Token, l.Holder, trains.ErrLeaseLost)
	}
	return cur, nil
}

// RenewLease extends a lease still held with l's token. ErrLeaseLost: it is not.
func (s *Store) RenewLease(ctx context.Context, l trains.Lease, ttl time.Duration) (trains.Lease, error) {
	if err := checkTTL("renew lease "+l.Name, ttl); err != nil {
		return trains.Lease{}, err
	}
	var cur trains.Lease
	err := s.update(ctx, "renew lease "+l.Name, func(tx *bbolt.Tx) error {
		var err error
		if cur, err = s.heldWith(tx, l); err != nil {
			return fmt.Errorf("renew: %w", err)
		}
		cur.Expiry = s.clock.Now().Add(ttl)
		return put(tx.Bucket(bLeases), []byte(l.Name), cur)
	})
	if err != nil {
		return trains.Lease{}, err
	}
	return cur, nil
}

// ReleaseLease gives a lease up if it is still held with l's token;
// releasing a lease already lost is not an error.
func (s *Store) ReleaseLease(ctx context.Context, l trains.Lease) error {
	return s.update(ctx, "release lease "+l.Name, func(tx *bbolt.Tx) error {
		var cur trains.Lease
		ok, err := get(tx.Bucket(bLeases), []byte(l.Name), "lease "+l.Name, &cur)
		if err != nil || !ok || cur.Token != l.Token {
			return err
		}
		return tx.Bucket(bLeases).Delete([]byte(l.Name))
	})
}
