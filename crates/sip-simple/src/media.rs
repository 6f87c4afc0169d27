//! RTP media without IO: placeholder while the module is built.
