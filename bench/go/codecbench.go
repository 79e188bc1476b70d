// codecbench: the Go reference column of bench/codec.ts. It decodes and encodes the bytes of one
// benchmark case exactly as memberlist 0.2.2 and Serf 0.9.4 do, times both on one goroutine with
// GOMAXPROCS=1 (the TS figures are one JS thread), and prints JSON on stdout.
//
//	codecbench -kind packet|stream [-key BASE64] [-seconds N] FILE
//
// memberlist's message structs and helpers are unexported, so the ones used here are copied from
// memberlist 0.2.2 (net.go, state.go, util.go, security.go) and Serf 0.9.4 (messages.go, serf.go,
// ping_delegate.go, coordinate/coordinate.go) with the same names, fields and bodies. Only the
// go-msgpack codec is imported (github.com/hashicorp/go-msgpack 0.5.5, the version both pin).
// Build in GOPATH mode, no module downloads:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o codecbench bench/go/codecbench.go
//
// "decode" follows a datagram through memberlist's ingestPacket / handleCommand (decrypt, CRC check,
// compound split, decompress) and decodes every message into its struct as handlePing, handleAck,
// handleAlive, … do, plus what Serf decodes next: the messageUserEvent in a user message
// (delegate.NotifyMsg) and the Coordinate in an ack payload (pingDelegate.NotifyPingComplete).
// It leaves out the handoff queue and the state changes. For a push/pull stream it runs readStream
// (on a bytes.Reader in place of the TCP connection), readRemoteState and Serf's MergeRemoteState
// decode of messagePushPull. "encode" builds the same bytes from the decoded structs: memberlist's
// encode / Serf's encodeMessage per message, the user-message framing of getBroadcasts,
// makeCompoundMessage and rawSendMsgPacket's compress, CRC and encrypt steps; for a push/pull,
// Serf's LocalState encode, sendLocalState and rawSendMsgStream.
package main

import (
	"bufio"
	"bytes"
	"compress/lzw"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"io/ioutil"
	"math"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

// ---------------------------------------------------------------------------------------------
// memberlist 0.2.2 net.go and state.go: message types and bodies
// ---------------------------------------------------------------------------------------------

type messageType uint8

const (
	pingMsg messageType = iota
	indirectPingMsg
	ackRespMsg
	suspectMsg
	aliveMsg
	deadMsg
	pushPullMsg
	compoundMsg
	userMsg // User mesg, not handled by us
	compressMsg
	encryptMsg
	nackRespMsg
	hasCrcMsg
	errMsg
)

type compressionType uint8

const (
	lzwAlgo compressionType = iota
)

type NodeStateType int

type ping struct {
	SeqNo uint32

	Node string

	SourceAddr []byte `codec:",omitempty"` // Source address, used for a direct reply
	SourcePort uint16 `codec:",omitempty"` // Source port, used for a direct reply
	SourceNode string `codec:",omitempty"` // Source name, used for a direct reply
}

type ackResp struct {
	SeqNo   uint32
	Payload []byte
}

type suspect struct {
	Incarnation uint32
	Node        string
	From        string // Include who is suspecting
}

type alive struct {
	Incarnation uint32
	Node        string
	Addr        []byte
	Port        uint16
	Meta        []byte

	// The versions of the protocol/delegate that are being spoken, order:
	// pmin, pmax, pcur, dmin, dmax, dcur
	Vsn []uint8
}

type dead struct {
	Incarnation uint32
	Node        string
	From        string // Include who is suspecting
}

type pushPullHeader struct {
	Nodes        int
	UserStateLen int  // Encodes the byte lengh of user state
	Join         bool // Is this a join request or a anti-entropy run
}

type pushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       NodeStateType
	Vsn         []uint8 // Protocol versions
}

type compress struct {
	Algo compressionType
	Buf  []byte
}

// ---------------------------------------------------------------------------------------------
// memberlist 0.2.2 util.go: msgpack, compound and LZW helpers (verbatim)
// ---------------------------------------------------------------------------------------------

const lzwLitWidth = 8

// Decode reverses the encode operation on a byte slice input
func decode(buf []byte, out interface{}) error {
	r := bytes.NewReader(buf)
	hd := codec.MsgpackHandle{}
	dec := codec.NewDecoder(r, &hd)
	return dec.Decode(out)
}

// Encode writes an encoded object to a new bytes buffer
func encode(msgType messageType, in interface{}) (*bytes.Buffer, error) {
	buf := bytes.NewBuffer(nil)
	buf.WriteByte(uint8(msgType))
	hd := codec.MsgpackHandle{}
	enc := codec.NewEncoder(buf, &hd)
	err := enc.Encode(in)
	return buf, err
}

func makeCompoundMessage(msgs [][]byte) *bytes.Buffer {
	buf := bytes.NewBuffer(nil)
	buf.WriteByte(uint8(compoundMsg))
	buf.WriteByte(uint8(len(msgs)))
	for _, m := range msgs {
		binary.Write(buf, binary.BigEndian, uint16(len(m)))
	}
	for _, m := range msgs {
		buf.Write(m)
	}
	return buf
}

func decodeCompoundMessage(buf []byte) (trunc int, parts [][]byte, err error) {
	if len(buf) < 1 {
		err = fmt.Errorf("missing compound length byte")
		return
	}
	numParts := uint8(buf[0])
	buf = buf[1:]

	// Check we have enough bytes
	if len(buf) < int(numParts*2) {
		err = fmt.Errorf("truncated len slice")
		return
	}

	// Decode the lengths
	lengths := make([]uint16, numParts)
	for i := 0; i < int(numParts); i++ {
		lengths[i] = binary.BigEndian.Uint16(buf[i*2 : i*2+2])
	}
	buf = buf[numParts*2:]

	// Split each message
	for idx, msgLen := range lengths {
		if len(buf) < int(msgLen) {
			trunc = int(numParts) - idx
			return
		}

		// Extract the slice, seek past on the buffer
		slice := buf[:msgLen]
		buf = buf[msgLen:]
		parts = append(parts, slice)
	}
	return
}

func compressPayload(inp []byte) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	compressor := lzw.NewWriter(&buf, lzw.LSB, lzwLitWidth)

	_, err := compressor.Write(inp)
	if err != nil {
		return nil, err
	}

	// Ensure we flush everything out
	if err := compressor.Close(); err != nil {
		return nil, err
	}

	// Create a compressed message
	c := compress{
		Algo: lzwAlgo,
		Buf:  buf.Bytes(),
	}
	return encode(compressMsg, &c)
}

func decompressPayload(msg []byte) ([]byte, error) {
	var c compress
	if err := decode(msg, &c); err != nil {
		return nil, err
	}
	return decompressBuffer(&c)
}

func decompressBuffer(c *compress) ([]byte, error) {
	// Verify the algorithm
	if c.Algo != lzwAlgo {
		return nil, fmt.Errorf("Cannot decompress unknown algorithm %d", c.Algo)
	}

	// Create a uncompressor
	uncomp := lzw.NewReader(bytes.NewReader(c.Buf), lzw.LSB, lzwLitWidth)
	defer uncomp.Close()

	// Read all the data
	var b bytes.Buffer
	_, err := io.Copy(&b, uncomp)
	if err != nil {
		return nil, err
	}

	// Return the uncompressed bytes
	return b.Bytes(), nil
}

// ---------------------------------------------------------------------------------------------
// memberlist 0.2.2 security.go: AES-GCM (version 1, no padding, is what Serf's memberlist sends;
// version 0's PKCS7 padding is kept so both decrypt as memberlist does)
// ---------------------------------------------------------------------------------------------

type encryptionVersion uint8

const (
	maxEncryptionVersion encryptionVersion = 1
)

const (
	versionSize = 1
	nonceSize   = 12
	tagSize     = 16
	blockSize   = aes.BlockSize
)

func pkcs7encode(buf *bytes.Buffer, ignore, blockSize int) {
	n := buf.Len() - ignore
	more := blockSize - (n % blockSize)
	for i := 0; i < more; i++ {
		buf.WriteByte(byte(more))
	}
}

func pkcs7decode(buf []byte, blockSize int) []byte {
	if len(buf) == 0 {
		panic("Cannot decode a PKCS7 buffer of zero length")
	}
	n := len(buf)
	last := buf[n-1]
	n -= int(last)
	return buf[:n]
}

func encryptedLength(vsn encryptionVersion, inp int) int {
	// If we are on version 1, there is no padding
	if vsn >= 1 {
		return versionSize + nonceSize + inp + tagSize
	}

	// Determine the padding size
	padding := blockSize - (inp % blockSize)

	// Sum the extra parts to get total size
	return versionSize + nonceSize + inp + padding + tagSize
}

func encryptPayload(vsn encryptionVersion, key []byte, msg []byte, data []byte, dst *bytes.Buffer) error {
	// Get the AES block cipher
	aesBlock, err := aes.NewCipher(key)
	if err != nil {
		return err
	}

	// Get the GCM cipher mode
	gcm, err := cipher.NewGCM(aesBlock)
	if err != nil {
		return err
	}

	// Grow the buffer to make room for everything
	offset := dst.Len()
	dst.Grow(encryptedLength(vsn, len(msg)))

	// Write the encryption version
	dst.WriteByte(byte(vsn))

	// Add a random nonce
	_, err = io.CopyN(dst, rand.Reader, nonceSize)
	if err != nil {
		return err
	}
	afterNonce := dst.Len()

	// Ensure we are correctly padded (only version 0)
	if vsn == 0 {
		io.Copy(dst, bytes.NewReader(msg))
		pkcs7encode(dst, offset+versionSize+nonceSize, aes.BlockSize)
	}

	// Encrypt message using GCM
	slice := dst.Bytes()[offset:]
	nonce := slice[versionSize : versionSize+nonceSize]

	// Message source depends on the encryption version.
	// Version 0 uses padding, version 1 does not
	var src []byte
	if vsn == 0 {
		src = slice[versionSize+nonceSize:]
	} else {
		src = msg
	}
	out := gcm.Seal(nil, nonce, src, data)

	// Truncate the plaintext, and write the cipher text
	dst.Truncate(afterNonce)
	dst.Write(out)
	return nil
}

func decryptMessage(key, msg []byte, data []byte) ([]byte, error) {
	// Get the AES block cipher
	aesBlock, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}

	// Get the GCM cipher mode
	gcm, err := cipher.NewGCM(aesBlock)
	if err != nil {
		return nil, err
	}

	// Decrypt the message
	nonce := msg[versionSize : versionSize+nonceSize]
	ciphertext := msg[versionSize+nonceSize:]
	plain, err := gcm.Open(nil, nonce, ciphertext, data)
	if err != nil {
		return nil, err
	}

	// Success!
	return plain, nil
}

func decryptPayload(keys [][]byte, msg []byte, data []byte) ([]byte, error) {
	// Ensure we have at least one byte
	if len(msg) == 0 {
		return nil, fmt.Errorf("Cannot decrypt empty payload")
	}

	// Verify the version
	vsn := encryptionVersion(msg[0])
	if vsn > maxEncryptionVersion {
		return nil, fmt.Errorf("Unsupported encryption version %d", msg[0])
	}

	// Ensure the length is sane
	if len(msg) < encryptedLength(vsn, 0) {
		return nil, fmt.Errorf("Payload is too small to decrypt: %d", len(msg))
	}

	for _, key := range keys {
		plain, err := decryptMessage(key, msg, data)
		if err == nil {
			// Remove the PKCS7 padding for vsn 0
			if vsn == 0 {
				return pkcs7decode(plain, aes.BlockSize), nil
			} else {
				return plain, nil
			}
		}
	}

	return nil, fmt.Errorf("No installed keys could decrypt the message")
}

// ---------------------------------------------------------------------------------------------
// Serf 0.9.4 messages.go, serf.go, ping_delegate.go and coordinate/coordinate.go
// ---------------------------------------------------------------------------------------------

type LamportTime uint64

type serfMessageType uint8

const (
	messageLeaveType serfMessageType = iota
	messageJoinType
	messagePushPullType
	messageUserEventType
)

type messagePushPull struct {
	LTime        LamportTime            // Current node lamport time
	StatusLTimes map[string]LamportTime // Maps the node to its status time
	LeftMembers  []string               // List of left nodes
	EventLTime   LamportTime            // Lamport time for event clock
	Events       []*userEvents          // Recent events
	QueryLTime   LamportTime            // Lamport time for query clock
}

type messageUserEvent struct {
	LTime   LamportTime
	Name    string
	Payload []byte
	CC      bool // "Can Coalesce". Zero value is compatible with Serf 0.1
}

// userEvents stores all the user events at a specific time
type userEvents struct {
	LTime  LamportTime
	Events []userEvent
}

// userEvent is used to buffer events to prevent re-delivery
type userEvent struct {
	Name    string
	Payload []byte
}

func decodeMessage(buf []byte, out interface{}) error {
	var handle codec.MsgpackHandle
	return codec.NewDecoder(bytes.NewReader(buf), &handle).Decode(out)
}

func encodeMessage(t serfMessageType, msg interface{}) ([]byte, error) {
	buf := bytes.NewBuffer(nil)
	buf.WriteByte(uint8(t))

	handle := codec.MsgpackHandle{}
	encoder := codec.NewEncoder(buf, &handle)
	err := encoder.Encode(msg)
	return buf.Bytes(), err
}

// PingVersion is an internal version for the ping message, prefixed to the coordinate in an ack.
const PingVersion = 1

// Coordinate is a specialized structure for holding network coordinates for the
// Vivaldi-based coordinate mapping algorithm.
type Coordinate struct {
	Vec        []float64
	Error      float64
	Adjustment float64
	Height     float64
}

// ---------------------------------------------------------------------------------------------
// Receiving a datagram: ingestPacket / handleCommand, then the per-type decodes
// ---------------------------------------------------------------------------------------------

// A message as its handler holds it after decoding.
type received struct {
	msgType messageType
	// *ping, *ackResp, *suspect, *alive, *dead, or for a userMsg the Serf message (*messageUserEvent).
	body interface{}
	// The Serf coordinate in an ack payload, nil when the payload is empty.
	coordinate *Coordinate
}

// decodedPacket is what one datagram held, with the layers met (in the vocabulary of shoal's
// PacketLayer, in the order met) so that encode can wrap the messages the same way.
type decodedPacket struct {
	layers   []string
	encVsn   encryptionVersion
	messages []received
}

func ingestPacket(buf []byte, keys [][]byte) (*decodedPacket, error) {
	p := &decodedPacket{}
	if len(keys) > 0 {
		if len(buf) > 0 {
			p.encVsn = encryptionVersion(buf[0])
		}
		plain, err := decryptPayload(keys, buf, nil)
		if err != nil {
			return nil, fmt.Errorf("Decrypt packet failed: %v", err)
		}
		p.layers = append(p.layers, "encrypt")
		buf = plain
	}

	// See if there's a checksum included to verify the contents of the message
	if len(buf) >= 5 && messageType(buf[0]) == hasCrcMsg {
		crc := crc32.ChecksumIEEE(buf[5:])
		expected := binary.BigEndian.Uint32(buf[1:5])
		if crc != expected {
			return nil, fmt.Errorf("Got invalid checksum for UDP packet: %x, %x", crc, expected)
		}
		p.layers = append(p.layers, "crc")
		buf = buf[5:]
	}
	return p, handleCommand(buf, p)
}

func handleCommand(buf []byte, p *decodedPacket) error {
	if len(buf) == 0 {
		return fmt.Errorf("empty message")
	}
	msgType := messageType(buf[0])
	buf = buf[1:]

	switch msgType {
	case compoundMsg:
		p.layers = append(p.layers, "compound")
		trunc, parts, err := decodeCompoundMessage(buf)
		if err != nil {
			return fmt.Errorf("Failed to decode compound request: %s", err)
		}
		if trunc > 0 {
			return fmt.Errorf("Compound request had %d truncated messages", trunc)
		}
		for _, part := range parts {
			if err := handleCommand(part, p); err != nil {
				return err
			}
		}
		return nil
	case compressMsg:
		p.layers = append(p.layers, "compress")
		payload, err := decompressPayload(buf)
		if err != nil {
			return fmt.Errorf("Failed to decompress payload: %v", err)
		}
		return handleCommand(payload, p)
	case pingMsg:
		var m ping
		return p.add(msgType, buf, &m)
	case ackRespMsg:
		var m ackResp
		if err := p.add(msgType, buf, &m); err != nil {
			return err
		}
		return notifyPingComplete(m.Payload, &p.messages[len(p.messages)-1])
	case suspectMsg:
		var m suspect
		return p.add(msgType, buf, &m)
	case aliveMsg:
		var m alive
		return p.add(msgType, buf, &m)
	case deadMsg:
		var m dead
		return p.add(msgType, buf, &m)
	case userMsg:
		return notifyMsg(buf, p)
	default:
		return fmt.Errorf("msg type (%d) not supported by this benchmark", msgType)
	}
}

func (p *decodedPacket) add(msgType messageType, buf []byte, out interface{}) error {
	if err := decode(buf, out); err != nil {
		return fmt.Errorf("Failed to decode message type %d: %s", msgType, err)
	}
	p.messages = append(p.messages, received{msgType: msgType, body: out})
	return nil
}

// Serf's delegate.NotifyMsg: the first byte is the Serf message type. Only the Serf message the
// benchmark gossips (user events) is handled; anything else is an error, not a silent skip.
func notifyMsg(buf []byte, p *decodedPacket) error {
	if len(buf) == 0 {
		return fmt.Errorf("empty user message")
	}
	switch t := serfMessageType(buf[0]); t {
	case messageUserEventType:
		var out messageUserEvent
		if err := decodeMessage(buf[1:], &out); err != nil {
			return fmt.Errorf("Error decoding user event message: %s", err)
		}
		p.messages = append(p.messages, received{msgType: userMsg, body: &out})
		return nil
	default:
		return fmt.Errorf("Serf message type %d not supported by this benchmark", t)
	}
}

// Serf's pingDelegate.NotifyPingComplete: PingVersion, then the sender's coordinate.
func notifyPingComplete(payload []byte, into *received) error {
	if len(payload) == 0 {
		return nil
	}
	if version := payload[0]; version != PingVersion {
		return fmt.Errorf("Unsupported ping version: %v", version)
	}
	r := bytes.NewReader(payload[1:])
	dec := codec.NewDecoder(r, &codec.MsgpackHandle{})
	var coord Coordinate
	if err := dec.Decode(&coord); err != nil {
		return fmt.Errorf("Failed to decode coordinate from ping: %v", err)
	}
	into.coordinate = &coord
	return nil
}

// ---------------------------------------------------------------------------------------------
// Sending a datagram: per-message encode, getBroadcasts' user framing, makeCompoundMessage and
// rawSendMsgPacket (compress if smaller, CRC, encrypt), in the layers the decoded packet had
// ---------------------------------------------------------------------------------------------

func (p *decodedPacket) has(layer string) bool {
	for _, l := range p.layers {
		if l == layer {
			return true
		}
	}
	return false
}

// checkShape refuses layer orders that rawSendMsgPacket cannot produce, so encode is faithful.
func (p *decodedPacket) checkShape() error {
	order := []string{"encrypt", "crc", "compress", "compound"}
	at := 0
	for _, l := range p.layers {
		for at < len(order) && order[at] != l {
			at++
		}
		if at == len(order) {
			return fmt.Errorf("layers %v are not in memberlist's send order %v", p.layers, order)
		}
		at++
	}
	if !p.has("compound") && len(p.messages) != 1 {
		return fmt.Errorf("%d messages without a compound", len(p.messages))
	}
	return nil
}

func encodeReceived(m *received) ([]byte, error) {
	if m.msgType == userMsg {
		ev := m.body.(*messageUserEvent)
		raw, err := encodeMessage(messageUserEventType, ev)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, 1, len(raw)+1)
		buf[0] = byte(userMsg)
		return append(buf, raw...), nil
	}
	if m.msgType == ackRespMsg && m.coordinate != nil {
		// Serf's pingDelegate.AckPayload, then handlePing's ack.
		var payload bytes.Buffer
		payload.Write([]byte{PingVersion})
		enc := codec.NewEncoder(&payload, &codec.MsgpackHandle{})
		if err := enc.Encode(m.coordinate); err != nil {
			return nil, err
		}
		ack := ackResp{SeqNo: m.body.(*ackResp).SeqNo, Payload: payload.Bytes()}
		out, err := encode(ackRespMsg, &ack)
		if err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	out, err := encode(m.msgType, m.body)
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (p *decodedPacket) encode(primaryKey []byte) ([]byte, error) {
	msgs := make([][]byte, 0, len(p.messages))
	for i := range p.messages {
		b, err := encodeReceived(&p.messages[i])
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, b)
	}
	var msg []byte
	if p.has("compound") {
		msg = makeCompoundMessage(msgs).Bytes()
	} else {
		msg = msgs[0]
	}

	if p.has("compress") {
		buf, err := compressPayload(msg)
		if err != nil {
			return nil, err
		}
		// Only use compression if it reduced the size
		if buf.Len() < len(msg) {
			msg = buf.Bytes()
		}
	}

	if p.has("crc") {
		crc := crc32.ChecksumIEEE(msg)
		header := make([]byte, 5, 5+len(msg))
		header[0] = byte(hasCrcMsg)
		binary.BigEndian.PutUint32(header[1:], crc)
		msg = append(header, msg...)
	}

	if p.has("encrypt") {
		var buf bytes.Buffer
		if err := encryptPayload(p.encVsn, primaryKey, msg, nil, &buf); err != nil {
			return nil, err
		}
		msg = buf.Bytes()
	}
	return msg, nil
}

// ---------------------------------------------------------------------------------------------
// A push/pull stream: readStream, readRemoteState, Serf's MergeRemoteState decode; and back
// ---------------------------------------------------------------------------------------------

type decodedPushPull struct {
	layers []string
	header pushPullHeader
	nodes  []pushNodeState
	serf   messagePushPull
}

// readStream without encryption (no benchmark case encrypts a stream), reading a bytes.Reader
// where memberlist reads the TCP connection.
func readStream(conn io.Reader) (messageType, io.Reader, *codec.Decoder, []string, error) {
	var layers []string
	var bufConn io.Reader = bufio.NewReader(conn)

	buf := [1]byte{0}
	if _, err := bufConn.Read(buf[:]); err != nil {
		return 0, nil, nil, nil, err
	}
	msgType := messageType(buf[0])
	if msgType == encryptMsg {
		return 0, nil, nil, nil, fmt.Errorf("encrypted streams are not supported by this benchmark")
	}

	hd := codec.MsgpackHandle{}
	dec := codec.NewDecoder(bufConn, &hd)

	if msgType == compressMsg {
		layers = append(layers, "compress")
		var c compress
		if err := dec.Decode(&c); err != nil {
			return 0, nil, nil, nil, err
		}
		decomp, err := decompressBuffer(&c)
		if err != nil {
			return 0, nil, nil, nil, err
		}
		msgType = messageType(decomp[0])
		bufConn = bytes.NewReader(decomp[1:])
		dec = codec.NewDecoder(bufConn, &hd)
	}
	return msgType, bufConn, dec, layers, nil
}

func readPushPull(data []byte) (*decodedPushPull, error) {
	msgType, bufConn, dec, layers, err := readStream(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if msgType != pushPullMsg {
		return nil, fmt.Errorf("received invalid msgType (%d), expected pushPullMsg (%d)", msgType, pushPullMsg)
	}
	out := &decodedPushPull{layers: layers}

	// readRemoteState
	if err := dec.Decode(&out.header); err != nil {
		return nil, err
	}
	out.nodes = make([]pushNodeState, out.header.Nodes)
	for i := 0; i < out.header.Nodes; i++ {
		if err := dec.Decode(&out.nodes[i]); err != nil {
			return nil, err
		}
	}
	var userBuf []byte
	if out.header.UserStateLen > 0 {
		userBuf = make([]byte, out.header.UserStateLen)
		n, err := io.ReadAtLeast(bufConn, userBuf, out.header.UserStateLen)
		if err == nil && n != out.header.UserStateLen {
			err = fmt.Errorf("Failed to read full user state (%d / %d)", n, out.header.UserStateLen)
		}
		if err != nil {
			return nil, err
		}
	}

	// Serf's delegate.MergeRemoteState
	if len(userBuf) == 0 {
		return nil, fmt.Errorf("Remote state is zero bytes")
	}
	if serfMessageType(userBuf[0]) != messagePushPullType {
		return nil, fmt.Errorf("Remote state has bad type prefix: %v", userBuf[0])
	}
	if err := decodeMessage(userBuf[1:], &out.serf); err != nil {
		return nil, fmt.Errorf("Failed to decode remote state: %v", err)
	}
	return out, nil
}

func (s *decodedPushPull) encode() ([]byte, error) {
	// Serf's delegate.LocalState
	userData, err := encodeMessage(messagePushPullType, &s.serf)
	if err != nil {
		return nil, err
	}

	// sendLocalState
	bufConn := bytes.NewBuffer(nil)
	header := pushPullHeader{Nodes: len(s.nodes), UserStateLen: len(userData), Join: s.header.Join}
	hd := codec.MsgpackHandle{}
	enc := codec.NewEncoder(bufConn, &hd)
	if _, err := bufConn.Write([]byte{byte(pushPullMsg)}); err != nil {
		return nil, err
	}
	if err := enc.Encode(&header); err != nil {
		return nil, err
	}
	for i := 0; i < header.Nodes; i++ {
		if err := enc.Encode(&s.nodes[i]); err != nil {
			return nil, err
		}
	}
	if userData != nil {
		if _, err := bufConn.Write(userData); err != nil {
			return nil, err
		}
	}

	// rawSendMsgStream (EnableCompression compresses whatever the size)
	sendBuf := bufConn.Bytes()
	if len(s.layers) > 0 && s.layers[0] == "compress" {
		compBuf, err := compressPayload(sendBuf)
		if err != nil {
			return nil, err
		}
		sendBuf = compBuf.Bytes()
	}
	return sendBuf, nil
}

// ---------------------------------------------------------------------------------------------
// What was decoded, as lines bench/go-reference.ts compares with shoal's own decode
// ---------------------------------------------------------------------------------------------

func floatHex(f float64) string {
	return fmt.Sprintf("%016x", math.Float64bits(f))
}

func (p *decodedPacket) summary() []string {
	lines := append([]string{}, p.layers...)
	for _, m := range p.messages {
		switch b := m.body.(type) {
		case *ping:
			lines = append(lines, fmt.Sprintf("ping seq=%d node=%s source=%x:%d sourceNode=%s", b.SeqNo, b.Node, b.SourceAddr, b.SourcePort, b.SourceNode))
		case *ackResp:
			line := fmt.Sprintf("ack seq=%d payload=%dB", b.SeqNo, len(b.Payload))
			if c := m.coordinate; c != nil {
				vec := make([]string, len(c.Vec))
				for i, v := range c.Vec {
					vec[i] = floatHex(v)
				}
				line += fmt.Sprintf(" coordinate vec=%s error=%s adjustment=%s height=%s",
					strings.Join(vec, ","), floatHex(c.Error), floatHex(c.Adjustment), floatHex(c.Height))
			}
			lines = append(lines, line)
		case *suspect:
			lines = append(lines, fmt.Sprintf("suspect inc=%d node=%s from=%s", b.Incarnation, b.Node, b.From))
		case *dead:
			lines = append(lines, fmt.Sprintf("dead inc=%d node=%s from=%s", b.Incarnation, b.Node, b.From))
		case *alive:
			lines = append(lines, fmt.Sprintf("alive inc=%d node=%s addr=%x:%d meta=%x vsn=%x", b.Incarnation, b.Node, b.Addr, b.Port, b.Meta, b.Vsn))
		case *messageUserEvent:
			lines = append(lines, fmt.Sprintf("userEvent ltime=%d name=%s payload=%x cc=%t", b.LTime, b.Name, b.Payload, b.CC))
		}
	}
	return lines
}

func (s *decodedPushPull) summary() []string {
	lines := append([]string{}, s.layers...)
	lines = append(lines, fmt.Sprintf("pushPull nodes=%d userState=%dB join=%t", s.header.Nodes, s.header.UserStateLen, s.header.Join))
	for _, n := range s.nodes {
		lines = append(lines, fmt.Sprintf("node name=%s addr=%x:%d inc=%d state=%d meta=%x vsn=%x", n.Name, n.Addr, n.Port, n.Incarnation, n.State, n.Meta, n.Vsn))
	}
	names := make([]string, 0, len(s.serf.StatusLTimes))
	for name := range s.serf.StatusLTimes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lines = append(lines, fmt.Sprintf("status %s=%d", name, s.serf.StatusLTimes[name]))
	}
	lines = append(lines, fmt.Sprintf("serf ltime=%d left=%s eventLTime=%d events=%d queryLTime=%d",
		s.serf.LTime, strings.Join(s.serf.LeftMembers, ","), s.serf.EventLTime, len(s.serf.Events), s.serf.QueryLTime))
	for slot, e := range s.serf.Events {
		if e == nil {
			continue
		}
		for _, ev := range e.Events {
			lines = append(lines, fmt.Sprintf("event slot=%d ltime=%d name=%s payload=%x", slot, e.LTime, ev.Name, ev.Payload))
		}
	}
	return lines
}

// ---------------------------------------------------------------------------------------------
// Timing: the same method as bench/harness.ts (2 ms batches; the median of the batches that kept
// the CPU throughout, mean over all beside it)
// ---------------------------------------------------------------------------------------------

type measurement struct {
	Ops                int64   `json:"ops"`
	Seconds            float64 `json:"seconds"`
	OpsPerSec          float64 `json:"opsPerSec"`
	NsPerOp            float64 `json:"nsPerOp"`
	MeanOpsPerSec      float64 `json:"meanOpsPerSec"`
	CPUShare           float64 `json:"cpuShare"`
	UndisturbedBatches int     `json:"undisturbedBatches"`
	Batches            int     `json:"batches"`
	Checksum           int64   `json:"checksum"`
}

const (
	batchNs           = 2_000_000
	maxBatch          = 1 << 24
	undisturbedShare  = 0.95
	minWarmupSeconds  = 0.05
	warmupSecondsPart = 20
)

type batch struct {
	wallNs int64
	cpuNs  int64
	sum    int64
}

func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func runBatch(fn func() int, n int) batch {
	var sum int64
	cpu := cpuNs()
	start := time.Now()
	for i := 0; i < n; i++ {
		sum += int64(fn())
	}
	wall := time.Since(start).Nanoseconds()
	return batch{wallNs: wall, cpuNs: cpuNs() - cpu, sum: sum}
}

// calibrate doubles the batch size from n until one batch takes about batchNs.
func calibrate(fn func() int, n int) int {
	for {
		if b := runBatch(fn, n); b.wallNs >= batchNs || n >= maxBatch {
			return n
		}
		n *= 2
	}
}

// measure calibrates, warms up, calibrates again (as bench/harness.ts does for the JIT; here it
// lets the heap grow to its working size) and times whole batches for `seconds` of wall time.
func measure(fn func() int, seconds float64) measurement {
	n := calibrate(fn, 1)
	warmupNs := math.Max(minWarmupSeconds, seconds/warmupSecondsPart) * 1e9
	for spent := 0.0; spent < warmupNs; {
		spent += float64(runBatch(fn, n).wallNs)
	}
	n = calibrate(fn, n)

	var batches []batch
	var wallNs, cpuTotal, checksum int64
	for wallNs < int64(seconds*1e9) {
		b := runBatch(fn, n)
		batches = append(batches, b)
		wallNs += b.wallNs
		cpuTotal += b.cpuNs
		checksum += b.sum
	}
	var undisturbed []float64
	var all []float64
	for _, b := range batches {
		all = append(all, float64(b.wallNs))
		if float64(b.cpuNs) >= undisturbedShare*float64(b.wallNs) {
			undisturbed = append(undisturbed, float64(b.wallNs))
		}
	}
	pick := undisturbed
	if len(pick) == 0 {
		pick = all
	}
	nsPerOp := median(pick) / float64(n)
	ops := int64(n) * int64(len(batches))
	return measurement{
		Ops:                ops,
		Seconds:            float64(wallNs) / 1e9,
		OpsPerSec:          1e9 / nsPerOp,
		NsPerOp:            nsPerOp,
		MeanOpsPerSec:      float64(ops) * 1e9 / float64(wallNs),
		CPUShare:           float64(cpuTotal) / float64(wallNs),
		UndisturbedBatches: len(undisturbed),
		Batches:            len(batches),
		Checksum:           checksum,
	}
}

func median(values []float64) float64 {
	sort.Float64s(values)
	mid := len(values) / 2
	if len(values)%2 == 1 {
		return values[mid]
	}
	return (values[mid-1] + values[mid]) / 2
}

// timed measures fn after checking that every call does the same work as the first.
func timed(label string, fn func() int, seconds float64) measurement {
	expected := int64(fn())
	m := measure(fn, seconds)
	if m.Checksum != expected*m.Ops {
		fail("%s: calls did not all do the same work (checksum %d, expected %d)", label, m.Checksum, expected*m.Ops)
	}
	return m
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

type result struct {
	GoVersion string   `json:"goVersion"`
	Layers    []string `json:"layers"`
	Messages  int      `json:"messages"`
	// What Go decoded, one line per layer and message, for the caller to compare with its own decode.
	Summary []string `json:"summary"`
	// Go's encode reproduced the input exactly (false for fresh nonces, or Go's random map order).
	ReencodesIdentically bool `json:"reencodesIdentically"`
	// Go decodes its own encode back to the same structs.
	RoundTrips bool        `json:"roundTrips"`
	Decode     measurement `json:"decode"`
	Encode     measurement `json:"encode"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "codecbench: "+format+"\n", args...)
	os.Exit(1)
}

// must turns an error inside a timed call into an exit: every call was checked before timing.
func must(b []byte, err error) []byte {
	if err != nil {
		fail("%v", err)
	}
	return b
}

func main() {
	kind := flag.String("kind", "", "packet (a UDP datagram) or stream (a TCP push/pull)")
	key := flag.String("key", "", "base64 AES key the packet is encrypted with")
	seconds := flag.Float64("seconds", 1, "measuring time of each figure")
	flag.Parse()
	if flag.NArg() != 1 || (*kind != "packet" && *kind != "stream") || !(*seconds > 0) {
		fail("usage: codecbench -kind packet|stream [-key BASE64] [-seconds N] FILE")
	}
	runtime.GOMAXPROCS(1)
	data, err := ioutil.ReadFile(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	var keys [][]byte
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			fail("bad -key: %v", err)
		}
		keys = append(keys, k)
	}

	res := result{GoVersion: runtime.Version()}
	var decodeFn, encodeFn func() int
	switch *kind {
	case "packet":
		p, err := ingestPacket(data, keys)
		if err != nil {
			fail("decode: %v", err)
		}
		if err := p.checkShape(); err != nil {
			fail("%v", err)
		}
		var primary []byte
		if len(keys) > 0 {
			primary = keys[0]
		}
		out, err := p.encode(primary)
		if err != nil {
			fail("encode: %v", err)
		}
		again, err := ingestPacket(out, keys)
		if err != nil {
			fail("decoding Go's own encode: %v", err)
		}
		res.Layers, res.Messages, res.Summary = p.layers, len(p.messages), p.summary()
		res.ReencodesIdentically = bytes.Equal(out, data)
		res.RoundTrips = reflect.DeepEqual(again, p)
		decodeFn = func() int {
			q, err := ingestPacket(data, keys)
			if err != nil {
				fail("decode: %v", err)
			}
			return len(q.messages)
		}
		encodeFn = func() int { return len(must(p.encode(primary))) }
	case "stream":
		if len(keys) > 0 {
			fail("encrypted streams are not supported by this benchmark")
		}
		s, err := readPushPull(data)
		if err != nil {
			fail("decode: %v", err)
		}
		out, err := s.encode()
		if err != nil {
			fail("encode: %v", err)
		}
		again, err := readPushPull(out)
		if err != nil {
			fail("decoding Go's own encode: %v", err)
		}
		res.Layers, res.Messages, res.Summary = s.layers, len(s.nodes), s.summary()
		res.ReencodesIdentically = bytes.Equal(out, data)
		res.RoundTrips = reflect.DeepEqual(again, s)
		decodeFn = func() int {
			q, err := readPushPull(data)
			if err != nil {
				fail("decode: %v", err)
			}
			return len(q.nodes)
		}
		// The length of an LZW push/pull varies with Go's random map order: count nodes instead.
		encodeFn = func() int {
			must(s.encode())
			return len(s.nodes)
		}
	}
	if res.Layers == nil {
		res.Layers = []string{}
	}
	res.Decode = timed("decode", decodeFn, *seconds)
	res.Encode = timed("encode", encodeFn, *seconds)
	if err := json.NewEncoder(os.Stdout).Encode(&res); err != nil {
		fail("%v", err)
	}
}
