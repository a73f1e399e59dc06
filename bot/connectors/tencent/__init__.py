"""What WeCom and WeChat share: message crypto, callback XML, access tokens."""
