import Foundation

extension CharacterSet {
  /// Characters left as they are in one URL path segment.
  public static let urlPathSegmentAllowed: CharacterSet = {
    var set = CharacterSet.urlPathAllowed
    set.remove(charactersIn: "/;?#")
    return set
  }()
}
